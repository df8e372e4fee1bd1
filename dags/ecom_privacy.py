"""Daily privacy work of ecom-stream on Composer (Airflow 2).

Thin by design (see docs/architecture.md): the DAG only schedules and orders;
each task runs one `ecom` CLI job in the project's container image.

  privacy_requests  run the pending erasure and export requests; exits non-zero
                    (after doing what it can) when a request is past its due date
  retention         delete what is older than the retention policy and log the
                    report (`--json`: one JSON object, the last line of the log)
  watcher           fails the run when any task above failed, so the run alerts

Retention runs after the requests (an erasure first, then the expiry) and runs
even when a request is past due (trigger rule all_done): a late request must
not hold back the deletion of expired data. Airflow decides a run's state by its
last tasks, so without the watcher a past-due request followed by a successful
retention would leave the run green; the watcher (trigger rule one_failed) turns
it red and Composer's failure alert fires.

Set the Airflow variables ECOM_IMAGE (the CLI image) and ECOM_NAMESPACE.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException
from airflow.models import Variable
from airflow.operators.python import PythonOperator
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.utils.trigger_rule import TriggerRule

ECOM_COMMANDS = {
    "privacy_requests": ["privacy", "requests", "run"],
    "retention": ["retention", "run", "--json"],
}


def ecom_task(task_id: str, retries: int, trigger_rule: str = TriggerRule.ALL_SUCCESS) -> KubernetesPodOperator:
    return KubernetesPodOperator(
        task_id=task_id,
        name=f"ecom-{task_id.replace('_', '-')}",
        namespace=Variable.get("ECOM_NAMESPACE", default_var="composer-user-workloads"),
        image=Variable.get("ECOM_IMAGE"),
        cmds=["ecom"],
        arguments=ECOM_COMMANDS[task_id],
        get_logs=True,
        retries=retries,
        retry_delay=timedelta(minutes=5),
        execution_timeout=timedelta(hours=1),
        trigger_rule=trigger_rule,
    )


def fail_the_run() -> None:
    raise AirflowException("a task of ecom_privacy failed (a privacy request past due, or a job error): see that task's log")


with DAG(
    dag_id="ecom_privacy",
    start_date=datetime(2026, 11, 1),
    schedule="0 2 * * *",
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-platform"},
    tags=["ecom-stream", "privacy"],
) as dag:
    # A past-due request stays past due: retrying would only delay the alert.
    requests = ecom_task("privacy_requests", retries=0)
    retention = ecom_task("retention", retries=2, trigger_rule=TriggerRule.ALL_DONE)
    watcher = PythonOperator(task_id="watcher", python_callable=fail_the_run, trigger_rule=TriggerRule.ONE_FAILED, retries=0)
    requests >> retention
    [requests, retention] >> watcher

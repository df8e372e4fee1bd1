"""Daily batch work of ecom-stream on Composer (Airflow 2).

Thin by design (see ../shared/design.md): the DAG only schedules and orders;
each task runs one `ecom` CLI job in the project's container image, and the
jobs themselves are TypeScript, tested in the repository.

  replay_dead_letters  re-validate yesterday's dead letters against today's schemas
  gold_rebuild_day     recompute yesterday's Gold windows from Silver (a safety net
                       beside the per-batch refresh; idempotent)
  gold_report          log the headline numbers

Set the Airflow variables ECOM_IMAGE (the CLI image) and ECOM_NAMESPACE.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.models import Variable
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

ECOM_COMMANDS = {
    "replay_dead_letters": ["dead-letters", "replay", "--json"],
    "gold_rebuild_day": ["gold", "rebuild", "--from", "{{ ds }}", "--to", "{{ ds }}"],
    "gold_report": ["report"],
}


def ecom_task(task_id: str) -> KubernetesPodOperator:
    return KubernetesPodOperator(
        task_id=task_id,
        name=f"ecom-{task_id.replace('_', '-')}",
        namespace=Variable.get("ECOM_NAMESPACE", default_var="composer-user-workloads"),
        image=Variable.get("ECOM_IMAGE"),
        cmds=["ecom"],
        arguments=ECOM_COMMANDS[task_id],
        get_logs=True,
        retries=2,
        retry_delay=timedelta(minutes=5),
        execution_timeout=timedelta(hours=1),
    )


with DAG(
    dag_id="ecom_daily",
    start_date=datetime(2026, 11, 1),
    schedule="30 1 * * *",
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-platform"},
    tags=["ecom-stream"],
) as dag:
    replay = ecom_task("replay_dead_letters")
    rebuild = ecom_task("gold_rebuild_day")
    report = ecom_task("gold_report")
    replay >> rebuild >> report

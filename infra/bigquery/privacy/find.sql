-- Finding a person: the subject index lookup, then the identifiers of their own rows, per table.
-- Generated from the table declarations (ecom privacy bigquery); the same statements the local erasure runs on DuckDB.

-- subject_index
SELECT DISTINCT table_name, CAST(event_date AS STRING) AS event_date, batch_id FROM ops.subject_index WHERE token IN UNNEST(@tokens);

-- clickstream_events
SELECT DISTINCT user_token, anonymous_token, session_id FROM silver.clickstream_events WHERE event_date IN UNNEST(@dates_clickstream_events) AND (user_token IN (SELECT m.t FROM UNNEST(@map) AS m) OR (user_token IS NULL AND (anonymous_token IN (SELECT m.t FROM UNNEST(@map) AS m))));

-- order_events
SELECT DISTINCT user_token, anonymous_token, customer_email_token, customer_phone_token, session_id FROM silver.order_events WHERE event_date IN UNNEST(@dates_order_events) AND (user_token IN (SELECT m.t FROM UNNEST(@map) AS m) OR customer_email_token IN (SELECT m.t FROM UNNEST(@map) AS m) OR customer_phone_token IN (SELECT m.t FROM UNNEST(@map) AS m) OR (user_token IS NULL AND (anonymous_token IN (SELECT m.t FROM UNNEST(@map) AS m))));

-- payment_events
SELECT DISTINCT user_token, anonymous_token, session_id FROM silver.payment_events WHERE event_date IN UNNEST(@dates_payment_events) AND (user_token IN (SELECT m.t FROM UNNEST(@map) AS m) OR (user_token IS NULL AND (anonymous_token IN (SELECT m.t FROM UNNEST(@map) AS m))));

-- inventory_events
SELECT DISTINCT user_token, anonymous_token, session_id FROM silver.inventory_events WHERE event_date IN UNNEST(@dates_inventory_events) AND (user_token IN (SELECT m.t FROM UNNEST(@map) AS m) OR (user_token IS NULL AND (anonymous_token IN (SELECT m.t FROM UNNEST(@map) AS m))));

-- customer_events
SELECT DISTINCT user_token, anonymous_token, email_token, phone_token, session_id FROM silver.customer_events WHERE event_date IN UNNEST(@dates_customer_events) AND (user_token IN (SELECT m.t FROM UNNEST(@map) AS m) OR email_token IN (SELECT m.t FROM UNNEST(@map) AS m) OR phone_token IN (SELECT m.t FROM UNNEST(@map) AS m) OR (user_token IS NULL AND (anonymous_token IN (SELECT m.t FROM UNNEST(@map) AS m))));

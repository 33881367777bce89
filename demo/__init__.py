"""``make demo`` and ``make airflow``: the example DAGs against the local sandbox, in a throwaway Airflow."""

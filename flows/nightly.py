"""The nightly deployment: the audit of the inbox on a cron schedule, served by
`liver-audit serve` on a Prefect server (../shared/docs/prefect-here.md, recipe b)."""

from prefect.schedules import Cron

from flows.audit import audit_run
from liver_audit.config import Settings

DEPLOYMENT = "nightly"


def nightly_parameters(settings: Settings) -> dict:
    """The flow's parameters from the settings; paths made absolute, since runs start in a
    subprocess of the serve process."""
    return {
        "inbox": str(settings.inbox.resolve()),
        "warehouse_path": str(settings.warehouse.resolve()),
        "reports": str(settings.reports.resolve()),
        "move_processed": settings.move_processed,
        "synonyms": str(settings.synonyms.resolve()),
        "parquet": str(settings.parquet.resolve()) if settings.parquet else None,
        "wait_for_warehouse": settings.wait_for_warehouse,
        "work_pool": settings.work_pool,
        "work_folder": str(settings.work_folder.resolve()) if settings.work_folder else None,
    }


def serve_nightly(settings: Settings) -> None:
    """Register the deployment liver-audit/nightly and run its flow runs until stopped."""
    audit_run.serve(
        name=DEPLOYMENT,
        schedule=Cron(settings.schedule, timezone=settings.timezone),
        parameters=nightly_parameters(settings),
        tags=["liver-audit", "nightly"],
        description="The liver-audit of every new file in the inbox.",
    )

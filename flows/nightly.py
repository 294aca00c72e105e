"""The nightly deployment: the audit of the inbox on a cron schedule, served by
`liver-audit serve` on a Prefect server (../shared/docs/prefect-here.md, recipe b)."""

from prefect.schedules import Cron

from flows.audit import audit_run
from liver_audit.config import Settings

DEPLOYMENT = "nightly"


def nightly_parameters(settings: Settings) -> dict:
    """The flow's parameters: the settings (the inbox's files are the run's), paths made
    absolute, since runs start in a subprocess of the serve process."""
    return {"settings": settings.absolute().as_parameter()}


def serve_nightly(settings: Settings) -> None:
    """Register the deployment liver-audit/nightly and run its flow runs until stopped."""
    audit_run.serve(
        name=DEPLOYMENT,
        schedule=Cron(settings.schedule, timezone=settings.timezone),
        parameters=nightly_parameters(settings),
        tags=["liver-audit", "nightly"],
        description="The liver-audit of every new file in the inbox.",
    )

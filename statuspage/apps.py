from django.apps import AppConfig
from django.db.models.signals import post_migrate


def sync_roles(sender, **kwargs) -> None:
    from django.apps import apps

    from statuspage.roles import sync_role_groups

    state = kwargs.get("apps") or apps
    try:
        state.get_model("auth", "Group")
    except LookupError:  # migrated back to before auth: nothing to give roles to
        return
    sync_role_groups(state)


class StatuspageConfig(AppConfig):
    name = "statuspage"
    verbose_name = "Status page"

    def ready(self) -> None:
        # After every migrate (and every test flush), the roles get the permissions of models
        # added since: the data migration alone would only know the models of its time.
        post_migrate.connect(sync_roles, sender=self, dispatch_uid="statuspage.sync_roles")
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from statuspage.login_throttle import record_sign_in, record_sign_out

        user_logged_in.connect(record_sign_in, dispatch_uid="statuspage.record_sign_in")
        user_logged_out.connect(record_sign_out, dispatch_uid="statuspage.record_sign_out")

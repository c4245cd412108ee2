from django.db import migrations


def create_roles(apps, schema_editor):
    from statuspage.roles import ROLES, sync_role_groups

    sync_role_groups(apps)
    # Staff from before roles could do everything: they keep that as admins, not locked out.
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    admin = Group.objects.get(name="admin")
    for user in User.objects.filter(is_staff=True).exclude(groups__name__in=ROLES):
        user.groups.add(admin)


def remove_roles(apps, schema_editor):
    from statuspage.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("statuspage", "0006_ops"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffAccess",
            fields=[],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [
                    ("use_console", "Use the staff console: read everything, add internal notes"),
                    ("respond", "Open and update incidents, maintenance and component statuses"),
                    (
                        "administer",
                        "Change probes, tokens, subscribers, webhooks, channels and users",
                    ),
                ],
            },
        ),
        migrations.RunPython(create_roles, remove_roles),
    ]

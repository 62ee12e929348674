"""What every other part of the services stands on: configuration, boto3 clients, listing and waiting,
AWS errors in words, the local engine's process, access roles and the audit log."""

"""Linkage disposal: playbooks, notifications, incidents, park linkage (plume), resources."""

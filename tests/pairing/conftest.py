from tests.helpers.backends import redis_cluster, redis_server

__all__ = ["redis_cluster", "redis_server"]

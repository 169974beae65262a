"""Which `/ws` clients want which topic: an index kept beside each client's own set, so that the fan-out of an
event finds its recipients without looking at every client."""

from __future__ import annotations

from mlsec.services.gateway.service.websocket.connection import Connection
from mlsec.services.gateway.service.websocket.protocol import ALL_TOPICS, ProtocolError


class TopicIndex:
    """Topic -> subscribed clients, and the clients subscribed to every topic ("*")."""

    def __init__(self) -> None:
        self._by_topic: dict[str, set[Connection]] = {}
        self._wildcard: set[Connection] = set()

    def subscribe(self, client: Connection, topics: frozenset[str], max_topics: int) -> list[str]:
        """Add the topics to the client's; ProtocolError when it would pass `max_topics`. Its topics after."""
        wanted = client.topics | topics
        if len(wanted) > max_topics:
            raise ProtocolError("too_many_topics", f"at most {max_topics} topics per client")
        self.update(client, wanted)
        return sorted(wanted)

    def unsubscribe(self, client: Connection, topics: frozenset[str]) -> list[str]:
        """Drop the topics; "*" among them drops every subscription. The client's topics after."""
        self.update(client, frozenset() if ALL_TOPICS in topics else client.topics - topics)
        return sorted(client.topics)

    def update(self, client: Connection, topics: frozenset[str]) -> None:
        """Make `topics` the client's subscriptions, replacing the ones it had."""
        self.delete(client)
        client.topics = topics
        if ALL_TOPICS in topics:
            self._wildcard.add(client)
        for topic in topics - {ALL_TOPICS}:
            self._by_topic.setdefault(topic, set()).add(client)

    def delete(self, client: Connection) -> None:
        """Take the client out of the index (its own `topics` are left as they were)."""
        self._wildcard.discard(client)
        for topic in client.topics:
            subscribers = self._by_topic.get(topic)
            if subscribers is not None:
                subscribers.discard(client)
                if not subscribers:
                    del self._by_topic[topic]

    def get_all(self, topic: str) -> set[Connection]:
        """The clients an event of `topic` goes to: a new set, so offering to them may unsubscribe one."""
        return self._by_topic.get(topic, set()) | self._wildcard

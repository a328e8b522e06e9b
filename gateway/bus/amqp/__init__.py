"""The RabbitMQ bus: `bus.RabbitBus`, its consumer, topology and message codec."""

export { createNatsPublisher, type NatsPublisher, type NatsPublisherOptions } from "./nats-publisher.js";

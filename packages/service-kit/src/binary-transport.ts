import { NatsRecordSerializer } from '@nestjs/microservices/serializers/nats-record.serializer.js';
import { IncomingResponseDeserializer } from '@nestjs/microservices/deserializers/incoming-response.deserializer.js';
import { containsBinary, decodeBinaryFrame, encodeBinaryFrame, isBinaryFrame } from './binary-frame.js';

/**
 * NestJS NATS (de)serializers that carry Uint8Array fields as raw bytes (see binary-frame in
 * contracts). The service that streams audio replies with BinaryAwareNatsSerializer; the gateway's
 * client reads every reply with BinaryAwareNatsDeserializer (plain JSON replies still work).
 */
export class BinaryAwareNatsSerializer extends NatsRecordSerializer {
  override serialize(packet: any): any {
    if (containsBinary(packet)) return { data: encodeBinaryFrame(packet), headers: undefined };
    return super.serialize(packet);
  }
}

export class BinaryAwareNatsDeserializer extends IncomingResponseDeserializer {
  override deserialize(message: any, options?: Record<string, any>): any {
    const data: Uint8Array = message.data;
    const decoded = isBinaryFrame(data) ? decodeBinaryFrame(data) : message.json();
    return super.deserialize(decoded, options);
  }
}

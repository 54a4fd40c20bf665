import {
  type Check,
  finite,
  first,
  id,
  invalid,
  json,
  MEDIA_KINDS,
  nonZero,
  oneOf,
  optionalId,
  pcm,
  text,
  unhandled,
} from './checks.js';
import { isRequestCase, type KnownClientMessage } from './envelope.js';
import { ErrorCode } from './gen/splatcast/v1/errors_pb.js';
import { TransportDirection } from './gen/splatcast/v1/media_pb.js';
import type { ClientInfo } from './gen/splatcast/v1/session_pb.js';
import { type CodecLimits, MAX_TOKEN_LENGTH } from './limits.js';

const DIRECTIONS: readonly number[] = [TransportDirection.SEND, TransportDirection.RECV];

/** Field-level checks of a client message; the server's session logic decides whether it may come now. */
export function checkClientMessage(message: KnownClientMessage, limits: CodecLimits): Check {
  if (isRequestCase(message.payload.case) && message.requestId === 0) {
    return invalid(`${message.payload.case} is a request and needs a non-zero request_id`);
  }
  return checkPayload(message.payload, limits);
}

function checkPayload(payload: KnownClientMessage['payload'], limits: CodecLimits): Check {
  switch (payload.case) {
    case 'hello': {
      const hello = payload.value;
      return first(
        hello.protocolVersion === 0
          ? { code: ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, message: 'hello.protocol_version is 0 (missing)' }
          : undefined,
        hello.token.length === 0 ? invalid('hello.token is empty') : text('hello.token', hello.token, MAX_TOKEN_LENGTH),
        hello.client && checkClientInfo(hello.client),
        optionalId('hello.identity_id', hello.identityId),
        optionalId('hello.resume_session_id', hello.resumeSessionId),
      );
    }
    case 'ping':
      return finite('ping.client_time_ms', payload.value.clientTimeMs);
    case 'createWebrtcTransport':
      return oneOf('create_webrtc_transport.direction', payload.value.direction, DIRECTIONS);
    case 'connectTransport':
      return first(
        id('connect_transport.transport_id', payload.value.transportId),
        json('connect_transport.dtls_parameters_json', payload.value.dtlsParametersJson, 'object'),
      );
    case 'produce':
      return first(
        id('produce.transport_id', payload.value.transportId),
        oneOf('produce.kind', payload.value.kind, MEDIA_KINDS),
        json('produce.rtp_parameters_json', payload.value.rtpParametersJson, 'object'),
        json('produce.app_data_json', payload.value.appDataJson, 'object', true),
      );
    case 'closeProducer':
      return id('close_producer.producer_id', payload.value.producerId);
    case 'consume':
      return first(
        id('consume.transport_id', payload.value.transportId),
        oneOf('consume.kind', payload.value.kind, MEDIA_KINDS),
        json('consume.rtp_capabilities_json', payload.value.rtpCapabilitiesJson, 'object'),
      );
    case 'resumeConsumer':
      return id('resume_consumer.consumer_id', payload.value.consumerId);
    case 'restartIce':
      return id('restart_ice.transport_id', payload.value.transportId);
    case 'pcmChunk':
      return first(
        oneOf('pcm_chunk.sample_rate', payload.value.sampleRate, limits.pcmSampleRates),
        pcm('pcm_chunk.data', payload.value.data, limits.maxPcmChunkBytes),
        nonZero('pcm_chunk.segment_id', payload.value.segmentId),
      );
    case 'segmentEnd':
      return nonZero('segment_end.segment_id', payload.value.segmentId);
    case 'clearBuffer':
      return undefined;
    /* c8 ignore next 2: unreachable; the never-typed argument is the compile-time exhaustiveness check */
    default:
      return unhandled(payload);
  }
}

function checkClientInfo(client: ClientInfo): Check {
  return first(
    text('hello.client.sdk', client.sdk),
    text('hello.client.sdk_version', client.sdkVersion),
    text('hello.client.platform', client.platform),
  );
}

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
  text,
  unhandled,
} from './checks.js';
import { isResponseCase, type KnownServerMessage } from './envelope.js';
import type { ServerLimits, StreamConfig } from './gen/splatcast/v1/session_pb.js';

/** Field-level checks of a server message. Open enums (error code, close reason) accept values a newer server adds. */
export function checkServerMessage(message: KnownServerMessage): Check {
  if (isResponseCase(message.payload.case) && message.requestId === 0) {
    return invalid(`${message.payload.case} is a response and needs the request's non-zero request_id`);
  }
  return checkPayload(message.payload);
}

function checkPayload(payload: KnownServerMessage['payload']): Check {
  switch (payload.case) {
    case 'welcome':
      return first(
        id('welcome.session_id', payload.value.sessionId),
        nonZero('welcome.protocol_version', payload.value.protocolVersion),
        payload.value.limits ? checkLimits(payload.value.limits) : invalid('welcome.limits is missing'),
        payload.value.stream ? checkStream(payload.value.stream) : invalid('welcome.stream is missing'),
        json('welcome.router_rtp_capabilities_json', payload.value.routerRtpCapabilitiesJson, 'object'),
      );
    case 'pong':
      return first(
        finite('pong.client_time_ms', payload.value.clientTimeMs),
        finite('pong.server_time_ms', payload.value.serverTimeMs),
      );
    case 'error':
      return first(nonZero('error.code', payload.value.code), text('error.message', payload.value.message));
    case 'closing':
      return first(nonZero('closing.reason', payload.value.reason), text('closing.message', payload.value.message));
    case 'ack':
    case 'speakingStarted':
    case 'speakingStopped':
      return undefined;
    case 'webrtcTransportCreated': {
      const created = payload.value;
      return first(
        id('webrtc_transport_created.transport_id', created.transportId),
        json('webrtc_transport_created.ice_parameters_json', created.iceParametersJson, 'object'),
        json('webrtc_transport_created.ice_candidates_json', created.iceCandidatesJson, 'array'),
        json('webrtc_transport_created.dtls_parameters_json', created.dtlsParametersJson, 'object'),
        json('webrtc_transport_created.ice_servers_json', created.iceServersJson, 'array', true),
      );
    }
    case 'produced':
      return id('produced.producer_id', payload.value.producerId);
    case 'consumed':
      return first(
        id('consumed.consumer_id', payload.value.consumerId),
        id('consumed.producer_id', payload.value.producerId),
        oneOf('consumed.kind', payload.value.kind, MEDIA_KINDS),
        json('consumed.rtp_parameters_json', payload.value.rtpParametersJson, 'object'),
      );
    case 'iceRestarted':
      return json('ice_restarted.ice_parameters_json', payload.value.iceParametersJson, 'object');
    case 'mediaReset':
      return text('media_reset.reason', payload.value.reason);
    case 'playbackStarted':
      return nonZero('playback_started.segment_id', payload.value.segmentId);
    case 'playbackFinished':
      return nonZero('playback_finished.segment_id', payload.value.segmentId);
    case 'stats':
      return finite('stats.fps', payload.value.fps);
    /* c8 ignore next 2: unreachable; the never-typed argument is the compile-time exhaustiveness check */
    default:
      return unhandled(payload);
  }
}

function checkLimits(limits: ServerLimits): Check {
  return first(
    nonZero('welcome.limits.max_message_bytes', limits.maxMessageBytes),
    nonZero('welcome.limits.max_pcm_chunk_bytes', limits.maxPcmChunkBytes),
    limits.pcmSampleRates.length === 0 ? invalid('welcome.limits.pcm_sample_rates is empty') : undefined,
  );
}

function checkStream(stream: StreamConfig): Check {
  return first(
    nonZero('welcome.stream.frame_width', stream.frameWidth),
    nonZero('welcome.stream.frame_height', stream.frameHeight),
    nonZero('welcome.stream.fps', stream.fps),
  );
}

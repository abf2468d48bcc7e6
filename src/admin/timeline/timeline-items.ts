import { displayUrl } from '../../config/event-webhook-settings';
import type { TimelineKey, TimelineSource } from './timeline-cursor';
import type { TimelineItemView, TimelineKind } from './timeline-views';

/** The signup row's part of the story: when and how it was accepted. */
export interface AcceptedSignup {
  id: bigint;
  createdAt: Date;
  importId: string | null;
}

const KIND_OF: Record<TimelineSource, TimelineKind> = {
  accepted: 'signup.accepted',
  attempt: 'capa.attempt',
  link: 'verification.link_issued',
  webhook: 'capa.webhook',
  status: 'signup.status',
  kyc: 'kyc.status',
  event: 'event',
  pastDelivery: 'event.delivery',
  delivery: 'event.delivery',
  operator: 'operator.action',
  erasure: 'erasure',
};

const BY_WHOM: Record<string, string> = { request: 'a request', worker: 'the worker', operator: 'an operator' };

type Facts = Record<string, unknown>;

/** The signup.accepted item and its key. */
export function acceptedItem(signup: AcceptedSignup): { key: TimelineKey; facts: Facts } {
  return { key: { at: signup.createdAt, source: 'accepted', id: signup.id }, facts: { source: signup.importId === null ? 'api' : 'import', importId: signup.importId } };
}

/**
 * A stored fact as the timeline shows it: its kind, a one-line summary and the details. Every field is picked by
 * name (never a row spread), so nothing a source holds beyond these reaches an answer; endpoints lose credentials.
 */
export function toTimelineItem(key: TimelineKey, facts: Facts): TimelineItemView {
  // An inbox entry read back from Capa's notifications API is the reconciliation's part of the story.
  const kind = key.source === 'webhook' && facts.source === 'reconciled' ? 'reconcile' : KIND_OF[key.source];
  const { summary, details } = describe(key.source, facts);
  return { at: key.at.toISOString(), kind, summary, details };
}

function describe(source: TimelineSource, facts: Facts): { summary: string; details: Facts } {
  switch (source) {
    case 'accepted':
      return {
        summary: facts.source === 'import' ? `Signup accepted from import ${String(facts.importId)}` : 'Signup accepted through the API',
        details: { source: facts.source, importId: facts.importId },
      };
    case 'attempt': {
      const details = pick(facts, ['operation', 'outcome', 'httpStatus', 'latencyMs', 'errorCode', 'by']);
      const answer = [details.httpStatus === null ? null : `HTTP ${String(details.httpStatus)}`, details.errorCode, `${String(details.latencyMs)} ms`];
      const who = BY_WHOM[String(details.by)] ?? String(details.by);
      return { summary: `Capa ${String(details.operation)} call by ${who}: ${String(details.outcome)} (${answer.filter((part) => part !== null).join(', ')})`, details };
    }
    case 'link': {
      const kind = String(facts.operation).startsWith('kyb') ? 'KYB' : 'KYC';
      const country = facts.country ?? null;
      return { summary: `${kind} verification link issued${country === null ? '' : ` for ${String(country)}`}`, details: { kind, country } };
    }
    case 'webhook': {
      const details: Facts = { ...pick(facts, ['type', 'event', 'outcome', 'kycStatus', 'notificationId']), source: facts.source ?? 'webhook' };
      const what = String(details.event ?? details.type ?? 'without an event');
      if (details.source === 'reconciled') {
        return { summary: `Capa notification ${String(details.notificationId)} read back (${what}): ${String(details.outcome)}`, details };
      }
      return { summary: `Capa webhook ${what}: ${String(details.outcome)}`, details };
    }
    case 'operator': {
      const details = pick(facts, ['action', 'outcome', 'actor', 'actorName', 'via', 'statusCode', 'code']);
      const who = details.actorName ?? details.actor;
      const how = details.outcome === 'failed' ? `failed (${String(details.code ?? details.statusCode)})` : String(details.outcome);
      return { summary: `Operator ${String(who)} (${String(details.via)}): ${String(details.action)} ${how}`, details };
    }
    case 'erasure':
      // Never the values that were erased: only that they were.
      return { summary: 'Personal data erased (identifier and alias)', details: { erasedAt: facts.erasedAt ?? null } };
    case 'status': {
      const details = pick(facts, ['from', 'to']);
      return { summary: `Status ${String(details.from ?? '?')} → ${String(details.to)}`, details };
    }
    case 'kyc': {
      const details = pick(facts, ['from', 'to', 'capaEvent']);
      const cause = details.capaEvent === null ? 'refreshed from Capa' : `Capa event ${String(details.capaEvent)}`;
      return { summary: `KYC status ${String(details.from)} → ${String(details.to)} (${cause})`, details };
    }
    case 'event': {
      const details = pick(facts, ['id', 'type']);
      return { summary: `Event ${String(details.type)} emitted`, details };
    }
    case 'pastDelivery':
    case 'delivery': {
      const details: Facts = { ...pick(facts, ['eventId', 'eventType', 'attempt', 'outcome', 'httpStatus', 'error']), endpoint: displayUrl(String(facts.endpoint)) };
      const result = details.outcome === 'delivered' ? 'delivered' : `failed (${String(details.error)})`;
      return { summary: `${String(details.eventType)} pushed to ${String(details.endpoint)}: attempt ${String(details.attempt)} ${result}`, details };
    }
  }
}

function pick(facts: Facts, names: readonly string[]): Facts {
  return Object.fromEntries(names.map((name) => [name, facts[name] ?? null]));
}

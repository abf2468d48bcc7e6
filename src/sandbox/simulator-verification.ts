import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parseJson, readBody } from './simulator-http';
import type { CreateUserPayload, Rejection } from './simulator-validation';

/** The countries of Capa's current KYC reference. */
const COUNTRIES = new Set(
  'MX DO US AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO CH GB MC SM AD VA'.split(' '),
);
const LINK_PATH = /^\/api\/partner\/v2\/users\/([^/]+)\/(kyc|kyb)\/verification-link$/;
const DETAILS_PATH = /^\/api\/partner\/v2\/(kyc|kyb)\/details$/;
const KYC_EVENT_VERDICT: Record<string, string> = {
  CREATED_KYC: 'IN_PROGRESS',
  REVIEW_NEEDED_KYC: 'REVIEW_NEEDED',
  VERIFIED_USER: 'VERIFIED',
  REJECTED_KYC: 'REJECTED',
};
const MAX_BODY_BYTES = 16 * 1024;

export interface VerificationSettings {
  /** Countries whose KYC/KYB template the simulated partner account lacks (KYC_/KYB_TEMPLATE_NOT_CONFIGURED_ERROR). */
  templateMissing?: string[];
}

/** The user a request names, as the simulator holds it. */
export interface SimulatedCapaUser {
  userId: string;
  payload: CreateUserPayload;
}

export type VerificationAnswer = { status: number; body: unknown } | { rejection: Rejection };

/** Capa's verification-link and details endpoints, with each user's verdict set by the webhooks the simulator sends. */
export class SimulatorVerification {
  private templateMissing = new Set<string>();
  private readonly verdicts = new Map<string, string>();
  /** Links handed out, so tests can look for them where they must never be (logs, database). */
  readonly issuedLinks: string[] = [];

  configure(settings: VerificationSettings): void {
    if (settings.templateMissing !== undefined) this.templateMissing = new Set(settings.templateMissing);
  }

  matches(method: string | undefined, path: string): boolean {
    return (method === 'POST' && LINK_PATH.test(path)) || (method === 'GET' && DETAILS_PATH.test(path));
  }

  /** Remembers the verdict a KYC event stands for, as Capa's details endpoint would then report it. */
  recordEvent(externalUserId: string, event: string): void {
    const verdict = KYC_EVENT_VERDICT[event];
    if (verdict !== undefined) this.verdicts.set(externalUserId, verdict);
  }

  reset(): void {
    this.verdicts.clear();
    this.issuedLinks.length = 0;
    this.templateMissing.clear();
  }

  async handle(req: IncomingMessage, path: string, query: URLSearchParams, findUser: (userId: string) => SimulatedCapaUser | undefined): Promise<VerificationAnswer> {
    const link = LINK_PATH.exec(path);
    if (link !== null) {
      const body = await readBody(req, MAX_BODY_BYTES);
      const json = body.outcome === 'complete' ? parseJson(body.text) : { ok: false as const };
      return this.issueLink(decodeURIComponent(link[1]), link[2] === 'kyb' ? 'KYB' : 'KYC', json.ok ? json.value : undefined, findUser);
    }
    const details = DETAILS_PATH.exec(path);
    return this.details(details?.[1] === 'kyb' ? 'KYB' : 'KYC', query.get('userId') ?? '', findUser);
  }

  private issueLink(userId: string, kind: 'KYC' | 'KYB', body: unknown, findUser: (userId: string) => SimulatedCapaUser | undefined): VerificationAnswer {
    const user = findUser(userId);
    if (user === undefined) return { rejection: { status: 404, code: 'NOT_FOUND_ERROR', message: 'User not found' } };
    const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    const country = fields?.country;
    if (typeof country !== 'string' || !/^[A-Z]{2}$/.test(country) || !COUNTRIES.has(country)) {
      return { rejection: { status: 400, code: 'INVALID_USER_INPUT_ERROR', message: 'country must be a supported ISO alpha-2 code' } };
    }
    if (fields?.partnerRedirectUri !== undefined && typeof fields.partnerRedirectUri !== 'string') {
      return { rejection: { status: 400, code: 'INVALID_USER_INPUT_ERROR', message: 'partnerRedirectUri must be a string' } };
    }
    if ((user.payload.userType === 'BUSINESS') !== (kind === 'KYB')) {
      return { rejection: { status: 400, code: 'INVALID_VERIFICATION_TYPE_FOR_USER', message: `${kind} is not available for this user type` } };
    }
    if (this.templateMissing.has(country)) {
      return { rejection: { status: 400, code: `${kind}_TEMPLATE_NOT_CONFIGURED_ERROR`, message: `No ${kind} template configured for ${country}` } };
    }
    const session = `https://verify.sandbox.capa.invalid/${kind.toLowerCase()}/${randomBytes(16).toString('hex')}`;
    this.issuedLinks.push(session);
    // The KYB answer's field name is undocumented; the simulator uses one the service must find among several.
    return { status: 201, body: { success: true, data: kind === 'KYB' ? { sessionUrl: session } : { kycLink: session } } };
  }

  /** A details answer shaped like Capa's: the verdict among heavy personal data the service must never keep. */
  private details(kind: 'KYC' | 'KYB', userId: string, findUser: (userId: string) => SimulatedCapaUser | undefined): VerificationAnswer {
    const user = findUser(userId);
    if (user === undefined) return { rejection: { status: 404, code: 'NOT_FOUND_ERROR', message: 'User not found' } };
    const verdict = this.verdicts.get(user.payload.externalUserId) ?? 'NOT_STARTED';
    const personal = { firstName: 'Sandbox', lastName: 'Person', dateOfBirth: '1990-01-01', documentNumber: 'SIM-PII-DOC-4711' };
    if (kind === 'KYB') {
      return { status: 200, body: { success: true, data: { userId, verificationStatus: verdict, businessName: 'SIM-PII-Business Ltd', ubos: [personal] } } };
    }
    return {
      status: 200,
      body: {
        success: true,
        data: {
          userId,
          aipriseSummary: { verificationResult: verdict, faceMatchScore: 0.97, amlHits: ['SIM-PII-AML-HIT'] },
          idImages: { front: `data:image/png;base64,${'SIM-PII-IMAGE'.repeat(50)}` },
          personalInfo: personal,
        },
      },
    };
  }
}

import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../../common/api-error';
import { SignupRepository } from '../../signups/signup.repository';
import { compareKeys, decodeTimelineCursor, encodeTimelineCursor } from './timeline-cursor';
import { acceptedItem, toTimelineItem } from './timeline-items';
import { TimelineQuery } from './timeline.query';
import { TimelineRepository } from './timeline.repository';
import type { TimelinePage } from './timeline-views';

/** One user's whole story, newest first: the signup row, then every stored source about the user, merged on one key. */
@Injectable()
export class TimelineService {
  constructor(
    private readonly signups: SignupRepository,
    private readonly repository: TimelineRepository,
  ) {}

  async page(externalUserId: string, query: TimelineQuery): Promise<TimelinePage> {
    const signup = await this.signups.findByExternalUserId(externalUserId);
    if (signup === null) throw new NotFoundError(`No signup for externalUserId ${JSON.stringify(externalUserId)}`);
    // The query DTO has already rejected cursors that do not decode.
    const cursor = query.cursor === undefined ? null : decodeTimelineCursor(query.cursor);
    const stored = await this.repository.rowsAfter(signup, cursor, query.limit + 1);
    const accepted = acceptedItem({ id: signup.id, createdAt: signup.createdAt, importId: signup.importId ?? null });
    // The signup row is the oldest fact but for clock skew between writers: placed by its key like any other.
    const rows = cursor === null || compareKeys(accepted.key, cursor) < 0 ? [...stored, accepted] : stored;
    rows.sort((a, b) => compareKeys(b.key, a.key));
    const shown = rows.slice(0, query.limit);
    const last = shown.at(-1);
    return {
      items: shown.map((row) => toTimelineItem(row.key, row.facts)),
      nextCursor: rows.length > query.limit && last !== undefined ? encodeTimelineCursor(last.key) : null,
    };
  }
}

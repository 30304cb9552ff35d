/**
 * Groups and chords: a member's result and the completed count change in one write
 * transaction, so concurrent members from several processes complete a group once.
 */
import type { GroupDescriptor, GroupStatus } from "../../contracts.ts";
import type { TaskStatus } from "../../../core/states.ts";
import { checkStatusesStorable } from "../../../core/storable.ts";
import type { SqliteDatabase } from "../database.ts";

const INIT = `
INSERT INTO stem_groups (id, expected, completed, meta, chord_callback_id, expires_at)
VALUES ($id, $expected, 0, $meta, NULL, $expiresAt)
ON CONFLICT (id) DO UPDATE SET
  expected = excluded.expected, completed = 0, meta = excluded.meta,
  chord_callback_id = NULL, expires_at = excluded.expires_at`;

const CLEAR_RESULTS = "DELETE FROM stem_group_results WHERE group_id = ?";

const SELECT_GROUP = `
SELECT id, expected, completed, meta, chord_callback_id FROM stem_groups
WHERE id = ? AND expires_at > ?`;

const SELECT_RESULTS = "SELECT member_index, status FROM stem_group_results WHERE group_id = ?";

const INSERT_RESULT = `
INSERT INTO stem_group_results (group_id, member_index, status) VALUES (?, ?, ?)
ON CONFLICT (group_id, member_index) DO NOTHING`;

const REPLACE_RESULT = `
UPDATE stem_group_results SET status = ? WHERE group_id = ? AND member_index = ?`;

const COUNT_COMPLETED = "UPDATE stem_groups SET completed = completed + 1 WHERE id = ?";

/** chord_callback_id holds the claim's owner. */
const CLAIM_CHORD = `
UPDATE stem_groups SET chord_callback_id = $owner
WHERE id = $id AND expires_at > $now AND (chord_callback_id IS NULL OR chord_callback_id = $owner)`;

interface GroupRow {
  id: string;
  expected: number;
  completed: number;
  meta: string;
  chord_callback_id: string | null;
}

/** Creates a group, or resets an existing one with its results cleared. */
export function initGroup(db: SqliteDatabase, group: GroupDescriptor, expiresAt: number): void {
  const init = db.statement<
    unknown,
    [{ id: string; expected: number; meta: string; expiresAt: number }]
  >(INIT);
  const clear = db.statement<unknown, [string]>(CLEAR_RESULTS);
  db.write(() => {
    clear.run(group.id);
    init.run({
      id: group.id,
      expected: group.expected,
      meta: JSON.stringify(group.meta ?? {}),
      expiresAt,
    });
  });
}

/** Reads a live group with its results. Call inside a transaction for a consistent view. */
function readGroup(db: SqliteDatabase, groupId: string, now: number): GroupStatus | null {
  const row = db.statement<GroupRow, [string, number]>(SELECT_GROUP).get(groupId, now);
  if (!row) return null;
  const results: Record<number, TaskStatus> = {};
  for (const r of db
    .statement<{ member_index: number; status: string }, [string]>(SELECT_RESULTS)
    .all(groupId)) {
    results[r.member_index] = JSON.parse(r.status) as TaskStatus;
  }
  const group: GroupStatus = {
    id: row.id,
    expected: row.expected,
    results,
    completed: row.completed,
    meta: JSON.parse(row.meta) as Record<string, unknown>,
  };
  if (row.chord_callback_id !== null) group.claimedBy = row.chord_callback_id;
  return group;
}

export function getGroup(db: SqliteDatabase, groupId: string, now: number): GroupStatus | null {
  return db.read(() => readGroup(db, groupId, now));
}

/** Records member `index` (once per index) and returns the group after the update. */
export function addGroupResult(
  db: SqliteDatabase,
  groupId: string,
  index: number,
  status: TaskStatus,
  now: number,
): GroupStatus | null {
  const insert = db.statement<unknown, [string, number, string]>(INSERT_RESULT);
  const replace = db.statement<unknown, [string, string, number]>(REPLACE_RESULT);
  const count = db.statement<unknown, [string]>(COUNT_COMPLETED);
  const select = db.statement<GroupRow, [string, number]>(SELECT_GROUP);
  checkStatusesStorable([status]);
  return db.write(() => {
    if (!select.get(groupId, now)) return null;
    const text = JSON.stringify(status);
    if (insert.run(groupId, index, text).changes > 0) count.run(groupId);
    else replace.run(text, groupId, index);
    return readGroup(db, groupId, now);
  });
}

/** True for the first owner to claim the group's completion, and for that owner again. */
export function claimChord(
  db: SqliteDatabase,
  groupId: string,
  owner: string,
  now: number,
): boolean {
  const claim = db.statement<unknown, [{ owner: string; id: string; now: number }]>(CLAIM_CHORD);
  return db.single(() => claim.run({ owner, id: groupId, now }).changes > 0, true);
}

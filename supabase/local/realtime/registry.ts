import { type PresenceDiff, type PresenceState, PresenceTopic } from './presence.ts';
import type { BinaryBroadcast } from './serializer.ts';

// Who is subscribed to what, and the fan-out of broadcasts and presence diffs. A public and a
// private channel of the same name are separate rooms, as on Supabase: nothing crosses between.

/** {type:'broadcast', event, payload, meta?} as clients receive it, or one with raw bytes. */
export type Broadcast = Record<string, unknown> | BinaryBroadcast;

export interface Member {
  /** "realtime:<name>". */
  readonly topic: string;
  readonly private: boolean;
  /** Receives its own broadcasts (config.broadcast.self). */
  readonly selfBroadcast: boolean;
  readsBroadcast(): boolean;
  readsPresence(): boolean;
  deliverBroadcast(message: Broadcast): void;
  deliverPresenceDiff(diff: PresenceDiff): void;
}

interface Room {
  members: Set<Member>;
  presence: PresenceTopic;
}

const roomKey = (topic: string, isPrivate: boolean) =>
  `${isPrivate ? 'private' : 'public'}|${topic}`;

export class ChannelRegistry {
  readonly #rooms = new Map<string, Room>();

  #room(member: Pick<Member, 'topic' | 'private'>, create: true): Room;
  #room(member: Pick<Member, 'topic' | 'private'>, create?: false): Room | undefined;
  #room(member: Pick<Member, 'topic' | 'private'>, create = false) {
    const key = roomKey(member.topic, member.private);
    let room = this.#rooms.get(key);
    if (!room && create) {
      room = { members: new Set(), presence: new PresenceTopic() };
      this.#rooms.set(key, room);
    }
    return room;
  }

  add(member: Member) {
    this.#room(member, true).members.add(member);
  }

  /** Also drops the member's presence, telling the others. */
  remove(member: Member) {
    const room = this.#room(member);
    if (!room) return;
    this.untrack(member);
    room.members.delete(member);
    if (room.members.size === 0 && room.presence.isEmpty) {
      this.#rooms.delete(roomKey(member.topic, member.private));
    }
  }

  /** Delivers to every member allowed to read broadcasts; `from` only if it asked for self. */
  broadcast(topic: string, isPrivate: boolean, message: Broadcast, from?: Member) {
    const room = this.#room({ topic, private: isPrivate });
    for (const member of room?.members ?? []) {
      if (member === from && !member.selfBroadcast) continue;
      if (member.readsBroadcast()) member.deliverBroadcast(message);
    }
  }

  /** Whether a broadcast to this room would reach anyone (so its content is worth reading). */
  hasReaders(topic: string, isPrivate: boolean) {
    for (const member of this.#room({ topic, private: isPrivate })?.members ?? []) {
      if (member.readsBroadcast()) return true;
    }
    return false;
  }

  presenceState(member: Member): PresenceState {
    return this.#room(member)?.presence.state() ?? {};
  }

  track(member: Member, key: string, payload: Record<string, unknown>) {
    this.#diff(member, (presence) => presence.track(member, key, payload));
  }

  untrack(member: Member) {
    this.#diff(member, (presence) => presence.untrack(member));
  }

  #diff(member: Member, change: (presence: PresenceTopic) => PresenceDiff | null) {
    const room = this.#room(member);
    const diff = room && change(room.presence);
    if (!diff) return;
    for (const other of room.members) {
      if (other.readsPresence()) other.deliverPresenceDiff(diff);
    }
  }
}

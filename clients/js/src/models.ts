// The shapes chatd sends (docs/api.md, docs/websocket.md).

export type UserId = number;
export type ConversationId = number;
export type Seq = number;

export interface User {
  id: UserId;
  username: string;
  display_name: string;
  created_at: string;
}

export interface Message {
  conversation_id: ConversationId;
  seq: Seq;
  sender_id: UserId;
  client_msg_id: string;
  body: string;
  reply_to: Seq | null;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
  reactions: Record<string, number>;
}

export type Role = "owner" | "admin" | "member";

export interface Member {
  user_id: UserId;
  role: Role;
  /**
   * Null for another member who has read receipts off or has not accepted
   * the conversation (a message request); the caller always sees its own.
   */
  read_seq: Seq | null;
}

/** The caller's folder for a conversation; a declined request shows "request". */
export type ConversationStateName = "inbox" | "request";

/** Which conversations `GET /v1/conversations` lists (v1.1). */
export type Folder = "inbox" | "requests";

export interface Conversation {
  id: ConversationId;
  kind: "direct" | "group";
  title: string | null;
  created_at: string;
  last_seq: Seq;
  read_seq: Seq;
  unread_count: number;
  last_message: Message | null;
  /** The caller's own standing (v1.1). */
  role: Role;
  state: ConversationStateName;
  /** True only when the caller declined this message request. */
  declined: boolean;
  muted: boolean;
  /** When the mute ends; null when muted until unmuted, or not muted. */
  muted_until: string | null;
  members?: Member[];
}

/**
 * The `conversation_state` frame: the caller's standing changed (accept,
 * decline, reopening or writing in a request, mute, role), on any device.
 */
export interface ConversationState {
  conversation_id: ConversationId;
  state: ConversationStateName;
  declined: boolean;
  muted: boolean;
  muted_until: string | null;
  role: Role;
}

/** Who may start a conversation with the user (v1.1). */
export type DmPolicy = "everyone" | "requests" | "nobody";

/** The caller's settings (`GET /v1/users/me/settings`, v1.1). */
export interface Settings {
  dm_policy: DmPolicy;
  /** When false, others get no read frames about the user and see read_seq null. */
  read_receipts: boolean;
  /** When false, no presence about the user goes out, and none comes in. */
  show_presence: boolean;
}

export type EventKind =
  | "conversation.created"
  | "conversation.updated"
  | "member.added"
  | "member.removed"
  | "member.updated"
  | "message.created"
  | "message.edited"
  | "message.deleted"
  | "reaction.added"
  | "reaction.removed";

export interface ChatEvent {
  conversation_id: ConversationId;
  seq: Seq;
  kind: EventKind | string;
  actor_id: UserId;
  created_at: string;
  data: Record<string, unknown>;
}

export interface Page<T> {
  items: T[];
  has_more: boolean;
}

/** One hit of `GET /v1/search/messages` (v1.1); never a deleted message. */
export interface SearchResult {
  message: Message;
}

/** A page of message search results, newest first; `next_cursor` is null on the last page. */
export interface SearchPage {
  results: SearchResult[];
  next_cursor: string | null;
}

export interface Block {
  user: User;
  created_at: string;
}

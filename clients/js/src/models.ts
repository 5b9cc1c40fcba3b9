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
  read_seq: Seq;
}

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
  state: "inbox" | "request";
  muted: boolean;
  /** When the mute ends; null when muted until unmuted, or not muted. */
  muted_until: string | null;
  members?: Member[];
}

/** The `conversation_state` frame: the caller's standing changed (on any of their devices). */
export interface ConversationState {
  conversation_id: ConversationId;
  state: "inbox" | "request";
  muted: boolean;
  muted_until: string | null;
  role: Role;
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

export interface Block {
  user: User;
  created_at: string;
}

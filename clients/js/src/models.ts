// The shapes chatd sends (docs/api.md, docs/websocket.md).

export type UserId = number;
export type ConversationId = number;
export type Seq = number;
export type AttachmentId = number;

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
  /** The files the message carries, in the order given at send (v1.1); empty on a tombstone. */
  attachments: Attachment[];
  /** A shared post, profile or link (v1.1); null on a tombstone. */
  share: Share | null;
}

/** The media types `POST /v1/attachments` accepts (v1.1). */
export type AttachmentMime =
  | "image/jpeg"
  | "image/png"
  | "image/gif"
  | "image/webp"
  | "video/mp4"
  | "audio/mp4"
  | "audio/mpeg"
  | "audio/ogg";

/** An uploaded file (v1.1): readable by its uploader and by members of a conversation where a live message carries it. */
export interface Attachment {
  id: AttachmentId;
  mime: AttachmentMime | string;
  /** Bytes. */
  size: number;
  /** Hex SHA-256 of the bytes (also the download's ETag). */
  sha256: string;
  created_at: string;
}

export type ShareKind = "video" | "profile" | "link";

/** A TikTok-style share of a post, a profile or an `https://` link (v1.1). */
export interface Share {
  kind: ShareKind;
  /** 1..512 characters: the post's or profile's reference, or the link. */
  ref: string;
  /** 0..200 characters. */
  title: string;
}

/** What a send may carry besides the body (v1.1); with either, the body may be "". */
export interface SendExtras {
  /** 0..10 ids from uploadAttachment (or of attachments the sender may read). */
  attachments?: AttachmentId[];
  share?: { kind: ShareKind; ref: string; title?: string };
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

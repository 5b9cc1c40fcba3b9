#include "chatd/store/attachment_store.hpp"

#include "pg.hpp"

namespace chatd::store {

namespace {

// Advisory locks in their two-key space (class 7: attachment content), apart
// from the one-key locks the push workers take per user.
constexpr Statement kLockContent{"att_lock_content",
                                 "SELECT pg_advisory_xact_lock(7, hashtext($1::text))"};

constexpr Statement kAttachmentInsert{"att_insert", R"sql(
INSERT INTO attachments (uploader_id, mime, size, sha256) VALUES ($1, $2, $3, $4)
RETURNING id, uploader_id, mime, size, sha256, )sql" CHATD_ATTACHMENT_SHAPE("attachments") "::text"};

constexpr Statement kReadable{"att_readable", R"sql(
SELECT a.id, a.uploader_id, a.mime, a.size, a.sha256, )sql" CHATD_ATTACHMENT_SHAPE("a") R"sql(::text
FROM attachments a
WHERE a.id = $1 AND )sql" CHATD_ATTACHMENT_READABLE("a", "$2")};

constexpr Statement kRemoveExpired{"att_remove_expired", R"sql(
DELETE FROM attachments WHERE id IN (
  SELECT a.id FROM attachments a
  WHERE a.created_at < now() - make_interval(secs => $1::double precision)
    AND NOT EXISTS (SELECT 1 FROM message_attachments ma WHERE ma.attachment_id = a.id)
  ORDER BY a.created_at LIMIT $2
  FOR UPDATE SKIP LOCKED)
  AND NOT EXISTS (SELECT 1 FROM message_attachments ma WHERE ma.attachment_id = attachments.id)
RETURNING id, sha256)sql"};

constexpr Statement kNamed{"att_named", "SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = $1)"};

model::Attachment attachment_from(const pqxx::row& row) {
  model::Attachment a;
  a.id = row[0].as<model::AttachmentId>();
  a.uploader = row[1].as<model::UserId>();
  a.mime = row[2].as<std::string>();
  a.size = row[3].as<std::int64_t>();
  a.sha256 = row[4].as<std::string>();
  a.json = row[5].as<std::string>();
  return a;
}

}  // namespace

void AttachmentStore::lock_content(const std::string& sha256) {
  tx_of(tx_).exec(kLockContent, sha256);
}

model::Attachment AttachmentStore::insert(model::UserId uploader, const std::string& mime,
                                          std::int64_t size, const std::string& sha256) {
  return attachment_from(tx_of(tx_).exec(kAttachmentInsert, uploader, mime, size, sha256)[0]);
}

std::optional<model::Attachment> AttachmentStore::readable(model::AttachmentId id,
                                                           model::UserId reader) {
  auto r = tx_of(tx_).exec(kReadable, id, reader);
  if (r.empty()) return std::nullopt;
  return attachment_from(r[0]);
}

std::vector<AttachmentStore::Expired> AttachmentStore::remove_expired(std::chrono::seconds age,
                                                                      int limit) {
  std::vector<Expired> out;
  for (const auto& row :
       tx_of(tx_).exec(kRemoveExpired, static_cast<double>(age.count()), limit)) {
    out.push_back({row[0].as<model::AttachmentId>(), row[1].as<std::string>()});
  }
  return out;
}

bool AttachmentStore::content_named(const std::string& sha256) {
  return tx_of(tx_).exec(kNamed, sha256)[0][0].as<bool>();
}

}  // namespace chatd::store

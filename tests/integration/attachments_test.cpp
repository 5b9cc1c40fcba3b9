// Attachments on a real server, PostgreSQL and disk: uploads of every
// accepted type, bytes that lie (415), the limit (413, before the rest is
// read), downloads with Range and If-None-Match, who may read what,
// forwarding, messages that carry attachments and shares over REST and
// WebSocket, and the sweeper.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "chat_fixture.hpp"
#include "ws_client.hpp"

namespace chatd::test {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
namespace fs = std::filesystem;

// The leading bytes of each accepted type, then filler.
std::string of_type(const std::string& mime, std::size_t size = 4096, char fill = 'x') {
  std::string head;
  if (mime == "image/jpeg") head = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"s;
  if (mime == "image/png") head = "\x89PNG\r\n\x1A\n\x00\x00\x00\x0D"s;
  if (mime == "image/gif") head = "GIF89a\x01\x00\x01\x00\x80\x00"s;
  if (mime == "image/webp") head = "RIFF\x24\x00\x00\x00WEBPVP8 "s;
  if (mime == "video/mp4") head = "\x00\x00\x00\x20" "ftypisom"s;
  if (mime == "audio/mp4") head = "\x00\x00\x00\x1C" "ftypM4A "s;
  if (mime == "audio/mpeg") head = "ID3\x04\x00\x00\x00\x00\x00\x00"s;
  if (mime == "audio/ogg") head = "OggS\x00\x02\x00\x00\x00\x00"s;
  std::string out = head;
  for (std::size_t i = 0; out.size() < size; ++i) out += static_cast<char>(fill + (i % 7));
  out.resize(std::max(size, head.size()));
  return out;
}

class Attachments : public ChatTest {
 protected:
  std::vector<std::string> extra_args() const override {
    return {"--attachment-limit", "1MiB"};
  }
  HttpResult upload(const TestUser& u, const std::string& mime, const std::string& bytes) {
    return client().request("POST", "/v1/attachments", bytes,
                            {{"Authorization", "Bearer " + u.token}, {"Content-Type", mime}});
  }
  // Uploads and returns the attachment's id.
  long long uploaded(const TestUser& u, const std::string& mime, const std::string& bytes) {
    auto r = upload(u, mime, bytes);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["attachment"].value("id", 0LL);
  }
  HttpResult download(const TestUser& u, long long id,
                      std::map<std::string, std::string> headers = {}) {
    headers["Authorization"] = "Bearer " + u.token;
    return client().request("GET", "/v1/attachments/" + std::to_string(id), "", headers);
  }
  HttpResult send_with(const TestUser& u, long long conv, const std::string& cmid,
                       const std::string& body, const Json& attachments, const Json& share = nullptr) {
    Json msg = {{"client_msg_id", cmid}, {"body", body}, {"attachments", attachments}};
    if (!share.is_null()) msg["share"] = share;
    return client().post(conv_path(conv) + "/messages", msg, u.token);
  }
  long long conv_of(const HttpResult& r) { return r.json()["conversation"].value("id", 0LL); }
  fs::path blob_path(const std::string& sha) {
    return fs::path(server_->data_dir()) / "blobs" / sha.substr(0, 2) / sha;
  }
};

TEST_F(Attachments, EveryAcceptedTypeUploadsAndDownloadsByteForByte) {
  auto a = user("uma");
  for (std::string mime : {"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4",
                           "audio/mp4", "audio/mpeg", "audio/ogg"}) {
    auto bytes = of_type(mime, 70'000);  // more than one read from the socket
    auto r = upload(a, mime, bytes);
    ASSERT_EQ(r.status, 201) << mime << ": " << r.body;
    auto att = r.json()["attachment"];
    EXPECT_EQ(att.value("mime", ""), mime);
    EXPECT_EQ(att.value("size", 0LL), 70'000);
    EXPECT_EQ(att.value("sha256", "").size(), 64u);
    EXPECT_FALSE(att.value("created_at", "").empty());
    auto d = download(a, att.value("id", 0LL));
    ASSERT_EQ(d.status, 200) << mime;
    EXPECT_TRUE(d.body == bytes) << mime;
    EXPECT_EQ(d.header("content-type"), mime);
    EXPECT_EQ(d.header("content-length"), "70000");
    EXPECT_EQ(d.header("etag"), "\"" + att.value("sha256", "") + "\"");
    EXPECT_EQ(d.header("cache-control"), "private");
    EXPECT_EQ(d.header("x-content-type-options"), "nosniff");
    EXPECT_TRUE(fs::exists(blob_path(att.value("sha256", ""))));
  }
  // A Content-Type with parameters and another case is the same type.
  EXPECT_EQ(upload(a, "Image/JPEG; name=x", of_type("image/jpeg")).status, 201);
}

TEST_F(Attachments, BytesThatLieAboutTheirTypeAndTypesABrowserWouldRunGet415) {
  auto a = user("lia");
  auto jpeg = of_type("image/jpeg");
  expect_error(upload(a, "image/png", jpeg), 415, "unsupported_media_type");
  expect_error(upload(a, "video/mp4", jpeg), 415, "unsupported_media_type");
  expect_error(upload(a, "image/jpeg", "<!DOCTYPE html><script>alert(1)</script>"), 415,
               "unsupported_media_type");
  expect_error(upload(a, "text/html", "<html></html>"), 415, "unsupported_media_type");
  expect_error(upload(a, "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'/>"), 415,
               "unsupported_media_type");
  expect_error(upload(a, "application/octet-stream", jpeg), 415, "unsupported_media_type");
  expect_error(upload(a, "image/gif", "GIF8"), 415, "unsupported_media_type");  // too short
  expect_error(upload(a, "image/jpeg", ""), 400, "invalid_request");
  // Without a session: 401 before anything is read or stored.
  auto r = client().request("POST", "/v1/attachments", jpeg, {{"Content-Type", "image/jpeg"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(db_->query("SELECT count(*) FROM attachments"), "0");
  // Temporary files go on the disk pool, just after the answer.
  std::size_t files = 1;
  for (int i = 0; i < 40 && files > 0; ++i) {
    files = 0;
    for (auto& e : fs::recursive_directory_iterator(server_->data_dir())) files += e.is_regular_file();
    if (files > 0) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(files, 0u) << "refused uploads leave no file, not even a temporary one";
}

TEST_F(Attachments, OverTheLimitIsRefusedBeforeTheRestIsSent) {
  auto a = user("max");
  // Declared too large: answered from the header alone, no 100 Continue.
  RawSocket s(server_->port());
  ASSERT_TRUE(s.send("POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     a.token +
                     "\r\nContent-Type: image/jpeg\r\nExpect: 100-continue\r\n"
                     "Content-Length: 1048577\r\n\r\n"));
  auto answer = s.read_until("\r\n\r\n", 3s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_EQ(answer.find("100 Continue"), std::string::npos) << answer;

  // Chunked, no length: cut off once the limit is passed; the rest of the
  // body is never waited for.
  RawSocket c(server_->port());
  ASSERT_TRUE(c.send("POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     a.token + "\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n"));
  auto chunk = of_type("image/jpeg", 64 * 1024);
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  for (int i = 0; i < 17; ++i) {  // 1 MiB + 64 KiB, never the final chunk
    ASSERT_TRUE(c.send(size_line + chunk + "\r\n"));
    chunk[0] = 'x';  // later chunks need no signature
  }
  answer = c.read_until("\r\n\r\n", 3s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_NE(answer.find("payload_too_large"), std::string::npos) << answer;
  EXPECT_TRUE(c.closed_within(3s)) << "the connection closes after a refused upload";

  // Exactly at the limit is fine.
  EXPECT_EQ(upload(a, "image/jpeg", of_type("image/jpeg", 1 << 20)).status, 201);
  EXPECT_EQ(db_->query("SELECT count(*) FROM attachments"), "1");
}

TEST_F(Attachments, AChunkedUploadWithExpectContinueIsStored) {
  auto a = user("cody");
  auto bytes = of_type("audio/ogg", 300'000);
  RawSocket s(server_->port());
  ASSERT_TRUE(s.send("POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     a.token +
                     "\r\nContent-Type: audio/ogg\r\nExpect: 100-continue\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"));
  auto go = s.read_until("\r\n\r\n", 3s);
  ASSERT_EQ(go.rfind("HTTP/1.1 100 Continue", 0), 0u) << go;
  for (std::size_t at = 0; at < bytes.size(); at += 50'000) {
    auto part = bytes.substr(at, 50'000);
    char line[32];
    std::snprintf(line, sizeof line, "%zx\r\n", part.size());
    ASSERT_TRUE(s.send(line + part + "\r\n"));
  }
  ASSERT_TRUE(s.send("0\r\n\r\n"));
  auto answer = s.read_until("}}", 5s);
  ASSERT_EQ(answer.rfind("HTTP/1.1 201", 0), 0u) << answer;
  auto id = std::stoll(answer.substr(answer.find("\"id\":") + 5));
  EXPECT_TRUE(download(a, id).body == bytes);
}

TEST_F(Attachments, RangesAndConditionalGets) {
  auto a = user("rae");
  auto bytes = of_type("video/mp4", 100'000, 'a');
  auto id = uploaded(a, "video/mp4", bytes);
  auto whole = download(a, id);
  auto etag = whole.header("etag");
  EXPECT_EQ(whole.header("accept-ranges"), "bytes");

  auto r = download(a, id, {{"Range", "bytes=10-19"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, bytes.substr(10, 10));
  EXPECT_EQ(r.header("content-range"), "bytes 10-19/100000");
  EXPECT_EQ(r.header("content-length"), "10");
  r = download(a, id, {{"Range", "bytes=99990-"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, bytes.substr(99990));
  r = download(a, id, {{"Range", "bytes=-4"}});
  EXPECT_EQ(r.body, bytes.substr(99996));
  // Resuming from the middle to the end, as a video player seeks.
  r = download(a, id, {{"Range", "bytes=50000-"}});
  EXPECT_TRUE(r.body == bytes.substr(50000));
  expect_error(download(a, id, {{"Range", "bytes=100000-"}}), 416, "range_not_satisfiable");
  EXPECT_EQ(download(a, id, {{"Range", "bytes=100000-"}}).header("content-range"), "bytes */100000");
  // A range of other content (If-Range) or one chatd does not serve: all of it.
  r = download(a, id, {{"Range", "bytes=0-9"}, {"If-Range", "\"other\""}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 100'000u);
  r = download(a, id, {{"Range", "bytes=0-9"}, {"If-Range", etag}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(download(a, id, {{"Range", "bytes=0-1,5-6"}}).status, 200);

  r = download(a, id, {{"If-None-Match", etag}});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header("etag"), etag);
  EXPECT_EQ(download(a, id, {{"If-None-Match", "\"stale\""}}).status, 200);
  // The connection stays usable after all of these (keep-alive, lengths right).
  auto c = client();
  for (int i = 0; i < 3; ++i) {
    auto again = c.request("GET", "/v1/attachments/" + std::to_string(id), "",
                           {{"Authorization", "Bearer " + a.token}, {"Range", "bytes=0-0"}});
    EXPECT_EQ(again.body, bytes.substr(0, 1));
  }
}

TEST_F(Attachments, OnlyTheUploaderAndCurrentMembersWhereALiveMessageCarriesItMayRead) {
  auto a = user("ada"), b = user("bob"), c = user("cyd"), d = user("dia");
  auto id = uploaded(a, "image/png", of_type("image/png"));
  EXPECT_EQ(download(a, id).status, 200) << "its uploader";
  expect_error(download(b, id), 404, "not_found");  // not carried by any message yet
  expect_error(download(a, id + 1000), 404, "not_found");

  auto group = this->group(a, {b, c});
  auto sent = send_with(a, group, "p1", "look", {id});
  ASSERT_EQ(sent.status, 201) << sent.body;
  EXPECT_EQ(download(b, id).status, 200) << "a member";
  EXPECT_EQ(download(c, id).status, 200) << "a member";
  expect_error(download(d, id), 404, "not_found");  // a stranger

  // A former member loses access.
  ASSERT_EQ(request(c, "DELETE", conv_path(group) + "/members/" + std::to_string(c.id)).status, 204);
  expect_error(download(c, id), 404, "not_found");
  EXPECT_EQ(download(b, id).status, 200);

  // The message deleted: only its uploader may still read it.
  ASSERT_EQ(request(a, "DELETE", conv_path(group) + "/messages/2").status, 200);
  expect_error(download(b, id), 404, "not_found");
  EXPECT_EQ(download(a, id).status, 200);
  // A stranger cannot send what they may not read, and nothing is stored.
  auto dm = conv_of(direct(d, a));
  expect_error(send_with(d, dm, "steal", "mine now", {id}), 400, "invalid_request");
  expect_error(send_with(a, dm, "nope", "x", {id + 1000}), 400, "invalid_request");
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages WHERE conversation_id = " + std::to_string(dm)), "0");
}

TEST_F(Attachments, AMemberMayForwardWhatTheyCanReadAndTheNewConversationThenCanToo) {
  auto a = user("fay"), b = user("gus"), c = user("hal");
  auto id = uploaded(a, "image/gif", of_type("image/gif"));
  auto ab = conv_of(direct(a, b));
  ASSERT_EQ(send_with(a, ab, "1", "", {id}).status, 201);
  auto bc = conv_of(direct(b, c));
  expect_error(download(c, id), 404, "not_found");
  auto fwd = send_with(b, bc, "fwd", "from fay", {id});
  ASSERT_EQ(fwd.status, 201) << fwd.body;
  EXPECT_EQ(fwd.json()["message"]["attachments"][0].value("id", 0LL), id);
  EXPECT_EQ(download(c, id).status, 200);
  // Deleting the original leaves the forward (and its readers) alone.
  ASSERT_EQ(request(a, "DELETE", conv_path(ab) + "/messages/2").status, 200);
  EXPECT_EQ(download(c, id).status, 200);
  EXPECT_EQ(download(b, id).status, 200) << "b is a member where the forward carries it";
}

TEST_F(Attachments, MessagesCarryAttachmentsAndSharesThroughHistoryLogEditsAndRetries) {
  auto a = user("ivy"), b = user("jon");
  auto conv = conv_of(direct(a, b));
  auto p1 = uploaded(a, "image/jpeg", of_type("image/jpeg"));
  auto p2 = uploaded(a, "audio/mpeg", of_type("audio/mpeg"));
  Json share = {{"kind", "video"}, {"ref", "7301234567890"}, {"title", "cats 😺"}};
  auto r = send_with(a, conv, "m1", "", {p2, p1}, share);
  ASSERT_EQ(r.status, 201) << r.body;
  auto m = r.json()["message"];
  ASSERT_EQ(m["attachments"].size(), 2u);
  EXPECT_EQ(m["attachments"][0].value("id", 0LL), p2) << "in the order given";
  EXPECT_EQ(m["attachments"][0].value("mime", ""), "audio/mpeg");
  EXPECT_EQ(m["attachments"][1].value("id", 0LL), p1);
  EXPECT_EQ(m["share"], share);
  EXPECT_EQ(m.value("body", "x"), "");

  // A retry answers the original, even with other content; nothing new stored.
  auto again = send_with(a, conv, "m1", "different", {p1});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.json()["message"]["attachments"].size(), 2u);
  EXPECT_EQ(db_->query("SELECT count(*) FROM message_attachments"), "2");

  // History, the log and the conversation list show the same.
  auto hist = request(b, "GET", conv_path(conv) + "/messages").json();
  EXPECT_EQ(hist["messages"].back()["attachments"], m["attachments"]);
  EXPECT_EQ(hist["messages"].back()["share"], share);
  auto log = request(b, "GET", conv_path(conv) + "/events?after=1").json();
  EXPECT_EQ(log["events"][0]["data"]["attachments"], m["attachments"]);
  EXPECT_EQ(log["events"][0]["data"]["share"], share);

  // Edits change the text, never the attachments; a media message may be
  // edited to no text, a text message may not.
  auto edited = request(a, "PATCH", conv_path(conv) + "/messages/2", R"({"body":"caption"})");
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(edited.json()["message"]["attachments"], m["attachments"]);
  EXPECT_EQ(request(a, "PATCH", conv_path(conv) + "/messages/2", R"({"body":""})").status, 200);
  auto text = send(a, conv, "t", "text only");
  ASSERT_EQ(text.status, 201);
  auto text_seq = std::to_string(text.json()["message"].value("seq", 0LL));
  expect_error(request(a, "PATCH", conv_path(conv) + "/messages/" + text_seq, R"({"body":""})"),
               400, "invalid_request");

  // A tombstone keeps neither, in history and in the log.
  ASSERT_EQ(request(a, "DELETE", conv_path(conv) + "/messages/2").status, 200);
  hist = request(b, "GET", conv_path(conv) + "/messages?before=3").json();
  EXPECT_EQ(hist["messages"].back()["attachments"], Json::array());
  EXPECT_TRUE(hist["messages"].back()["share"].is_null());
  log = request(b, "GET", conv_path(conv) + "/events?after=1").json();
  EXPECT_EQ(log["events"][0]["data"]["attachments"], Json::array());
  EXPECT_TRUE(log["events"][0]["data"]["share"].is_null());
  EXPECT_EQ(db_->query("SELECT count(*) FROM message_attachments"), "0");
}

TEST_F(Attachments, BadAttachmentListsAndSharesAreRefusedNamingTheField) {
  auto a = user("kai"), b = user("lou");
  auto conv = conv_of(direct(a, b));
  auto id = uploaded(a, "image/webp", of_type("image/webp"));
  auto bad = [&](const Json& attachments, const Json& share, const std::string& field,
                 const std::string& body = "") {
    auto r = send_with(a, conv, "bad", body, attachments, share);
    expect_error(r, 400, "invalid_request");
    EXPECT_NE(r.body.find(field), std::string::npos) << r.body;
  };
  bad(Json::array({id, id}), nullptr, "attachments");
  bad(Json::array({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), nullptr, "attachments");
  bad("x", nullptr, "attachments");
  bad(Json::array({"1"}), nullptr, "attachments");
  bad(Json::array({0}), nullptr, "attachments");
  bad(Json::array(), nullptr, "body");  // no media: a body is required
  bad(Json::array(), {{"kind", "story"}, {"ref", "1"}}, "share.kind");
  bad(Json::array(), {{"kind", "video"}, {"ref", ""}}, "share.ref");
  bad(Json::array(), {{"kind", "video"}, {"ref", std::string(513, 'r')}}, "share.ref");
  bad(Json::array(), {{"kind", "link"}, {"ref", "http://example.com"}}, "share.ref");
  bad(Json::array(), {{"kind", "link"}, {"ref", "javascript:alert(1)"}}, "share.ref");
  bad(Json::array(), {{"kind", "profile"}, {"ref", "u1"}, {"title", std::string(201, 't')}},
      "share.title");
  bad(Json::array(), "share", "share");
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages"), "0");
  // At the limits: fine.
  std::string title(200, 't');
  auto ok = send_with(a, conv, "ok", "", Json::array(),
                      {{"kind", "link"}, {"ref", "https://example.com/x?y=1"}, {"title", title}});
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(ok.json()["message"]["share"].value("title", ""), title);
}

TEST_F(Attachments, WebSocketSendsCarryThemAndMembersHearThemLive) {
  auto a = user("moe"), b = user("ned");
  auto conv = conv_of(direct(a, b));
  auto id = uploaded(a, "image/jpeg", of_type("image/jpeg"));
  WsClient ws_a(server_->port(), a.token), ws_b(server_->port(), b.token);
  ASSERT_TRUE(ws_a.connected() && ws_b.connected());
  for (auto* c : {&ws_a, &ws_b}) {
    c->send({{"type", "ping"}, {"id", "ready"}});
    ASSERT_TRUE(c->read_until([](const Json& f) { return f.value("type", "") == "pong"; }));
  }
  Json share = {{"kind", "profile"}, {"ref", "user/77"}, {"title", ""}};
  ws_a.send({{"type", "send"}, {"id", 1}, {"conversation_id", conv}, {"client_msg_id", "w1"},
             {"body", ""}, {"attachments", {id}}, {"share", share}});
  auto ack = ws_a.read_until([](const Json& f) { return f.value("type", "") == "ack"; });
  ASSERT_TRUE(ack);
  EXPECT_EQ((*ack)["message"]["attachments"][0].value("id", 0LL), id);
  auto heard = ws_b.read_until([](const Json& f) {
    return f.value("type", "") == "event" && f["event"]["kind"] == "message.created";
  });
  ASSERT_TRUE(heard);
  EXPECT_EQ((*heard)["event"]["data"]["attachments"][0].value("id", 0LL), id);
  EXPECT_EQ((*heard)["event"]["data"]["share"], share);
  EXPECT_EQ(download(b, id).status, 200);
  // A bad list over the socket: an error frame naming the field.
  ws_a.send({{"type", "send"}, {"id", 2}, {"conversation_id", conv}, {"client_msg_id", "w2"},
             {"body", "x"}, {"attachments", {id, id}}});
  auto err = ws_a.read_until([](const Json& f) { return f.value("type", "") == "error"; });
  ASSERT_TRUE(err);
  EXPECT_NE((*err)["error"].value("message", "").find("attachments"), std::string::npos) << *err;
}

TEST_F(Attachments, TheSameContentIsStoredOnceButEachUploadIsItsOwnRecord) {
  auto a = user("ola"), b = user("pia");
  auto bytes = of_type("image/png", 10'000);
  auto first = upload(a, "image/png", bytes).json()["attachment"];
  auto second = upload(b, "image/png", bytes).json()["attachment"];
  EXPECT_NE(first.value("id", 0LL), second.value("id", 0LL));
  EXPECT_EQ(first.value("sha256", ""), second.value("sha256", ""));
  std::size_t files = 0;
  for (auto& e : fs::recursive_directory_iterator(fs::path(server_->data_dir()) / "blobs")) {
    files += e.is_regular_file();
  }
  EXPECT_EQ(files, 1u);
  // Each record keeps its own uploader: b may not read a's upload.
  expect_error(download(b, first.value("id", 0LL)), 404, "not_found");
  EXPECT_TRUE(download(b, second.value("id", 0LL)).body == bytes);
}

TEST_F(Attachments, AnUploadStaysWholeInNeitherMemoryNorATemporaryFileAfterTheClientLeaves) {
  auto a = user("quin");
  {
    RawSocket s(server_->port());
    ASSERT_TRUE(s.send("POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                       a.token + "\r\nContent-Type: image/jpeg\r\nContent-Length: 900000\r\n\r\n" +
                       of_type("image/jpeg", 300'000)));
    std::this_thread::sleep_for(300ms);
  }  // gone mid-upload
  bool clean = false;
  for (int i = 0; i < 50 && !clean; ++i) {
    std::this_thread::sleep_for(100ms);
    clean = fs::is_empty(fs::path(server_->data_dir()) / "tmp");
  }
  EXPECT_TRUE(clean) << "the partial upload's temporary file is removed";
  EXPECT_EQ(db_->query("SELECT count(*) FROM attachments"), "0");
  EXPECT_EQ(upload(a, "image/jpeg", of_type("image/jpeg")).status, 201) << "the server is fine";
}

TEST_F(Attachments, HeadAnswersTheHeadersOfAGetWithoutTheBytes) {
  auto a = user("hana");
  auto bytes = of_type("image/png", 30'000);
  auto id = uploaded(a, "image/png", bytes);
  auto c = client();
  auto target = "/v1/attachments/" + std::to_string(id);
  auto head = c.request("HEAD", target, "", {{"Authorization", "Bearer " + a.token}});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), "30000");
  EXPECT_EQ(head.header("content-type"), "image/png");
  EXPECT_FALSE(head.header("etag").empty());
  EXPECT_TRUE(head.body.empty());
  // The same connection carries on: no stray body bytes were sent.
  auto get = c.request("GET", target, "", {{"Authorization", "Bearer " + a.token}});
  EXPECT_TRUE(get.body == bytes);
}

TEST_F(Attachments, AnUploadRefusedAtItsStartIsStillAnsweredWhileTheClientSendsTheRest) {
  auto a = user("ivo");
  // Refused from the header (8 MiB declared, over the limit) and after the
  // first chunk (1 MiB of JPEG declared as PNG), while the client is still
  // sending: it must read the answer, not a reset.
  struct Case {
    std::size_t size;
    int status;
    std::string code;
  };
  for (const auto& c : {Case{8u << 20, 413, "payload_too_large"},
                        Case{1u << 20, 415, "unsupported_media_type"}}) {
    auto bytes = of_type("image/jpeg", c.size);
    RawSocket s(server_->port());
    ASSERT_TRUE(s.send("POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                       a.token + "\r\nContent-Type: image/png\r\nContent-Length: " +
                       std::to_string(bytes.size()) + "\r\n\r\n"));
    s.send(bytes);  // may stop early once the server closes: that is fine
    auto answer = s.read_until("}}", 5s);
    EXPECT_EQ(answer.rfind("HTTP/1.1 " + std::to_string(c.status), 0), 0u) << answer.substr(0, 200);
    EXPECT_NE(answer.find(c.code), std::string::npos) << answer.substr(0, 200);
  }
}

// The sweeper, with a short TTL.
class AttachmentSweeper : public Attachments {
 protected:
  std::vector<std::string> extra_args() const override {
    return {"--attachment-ttl", "2s", "--sweep-interval", "300ms"};
  }
};

TEST_F(AttachmentSweeper, RemovesUploadsNoMessageCarriesAndFilesNoRecordNames) {
  auto a = user("rex"), b = user("sue");
  auto conv = conv_of(direct(a, b));
  auto unsent = upload(a, "image/jpeg", of_type("image/jpeg", 5000, 'u')).json()["attachment"];
  auto kept = upload(a, "image/png", of_type("image/png", 5000, 'k')).json()["attachment"];
  auto deleted = upload(a, "image/gif", of_type("image/gif", 5000, 'd')).json()["attachment"];
  // The same bytes twice: one record sent, one not. The file must stay.
  auto shared_bytes = of_type("audio/ogg", 5000, 's');
  auto twin_sent = upload(a, "audio/ogg", shared_bytes).json()["attachment"];
  auto twin_unsent = upload(a, "audio/ogg", shared_bytes).json()["attachment"];
  ASSERT_EQ(send_with(a, conv, "1", "", {kept.value("id", 0LL)}).status, 201);
  ASSERT_EQ(send_with(a, conv, "2", "", {deleted.value("id", 0LL)}).status, 201);
  ASSERT_EQ(send_with(a, conv, "3", "", {twin_sent.value("id", 0LL)}).status, 201);
  ASSERT_EQ(request(a, "DELETE", conv_path(conv) + "/messages/3").status, 200);
  EXPECT_EQ(download(a, unsent.value("id", 0LL)).status, 200) << "not expired yet";

  // Leftovers of a crash: a file no record names, a partial upload; both old.
  std::string orphan(64, 'e');
  fs::create_directories(blob_path(orphan).parent_path());
  std::ofstream(blob_path(orphan)) << "orphan";
  auto partial = fs::path(server_->data_dir()) / "tmp" / "crashed-upload";
  std::ofstream(partial) << "partial";
  auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(blob_path(orphan), old);
  fs::last_write_time(partial, old);

  auto sha = [](const Json& j) { return j.value("sha256", ""); };
  bool swept = false;
  for (int i = 0; i < 100 && !swept; ++i) {
    std::this_thread::sleep_for(100ms);
    swept = !fs::exists(blob_path(sha(unsent))) && !fs::exists(blob_path(sha(deleted))) &&
            !fs::exists(blob_path(orphan)) && !fs::exists(partial);
  }
  EXPECT_TRUE(swept) << "expired uploads, an unnamed file and a partial upload are removed";
  expect_error(download(a, unsent.value("id", 0LL)), 404, "not_found");
  expect_error(download(a, deleted.value("id", 0LL)), 404, "not_found");
  expect_error(download(a, twin_unsent.value("id", 0LL)), 404, "not_found");
  // What a live message carries stays, record and file.
  EXPECT_EQ(download(b, kept.value("id", 0LL)).status, 200);
  EXPECT_TRUE(fs::exists(blob_path(sha(kept))));
  EXPECT_TRUE(download(b, twin_sent.value("id", 0LL)).body == shared_bytes);
  EXPECT_TRUE(fs::exists(blob_path(sha(twin_sent)))) << "another record still names the content";
  EXPECT_EQ(db_->query("SELECT count(*) FROM attachments"), "2");
}

TEST_F(AttachmentSweeper, AKillMidUploadLeavesNoRecordAndAnAcknowledgedUploadSurvivesOne) {
  auto a = user("tia");
  auto bytes = of_type("image/jpeg", 200'000);
  auto done = uploaded(a, "image/jpeg", bytes);
  RawSocket s(server_->port());
  ASSERT_TRUE(s.send("POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     a.token + "\r\nContent-Type: image/jpeg\r\nContent-Length: 900000\r\n\r\n" +
                     of_type("image/jpeg", 400'000, 'z')));
  std::this_thread::sleep_for(300ms);
  auto dir = server_->data_dir();
  server_->signal(SIGKILL);
  server_->wait();
  // The same database and directory, a new process.
  std::vector<std::string> args = {"--database-url", db_->url(), "--listen", "127.0.0.1:0",
                                   "--data-dir", dir, "--attachment-ttl", "2s",
                                   "--sweep-interval", "300ms"};
  auto restarted = std::make_unique<ChatdProcess>(args);
  server_->hand_data_dir_to(*restarted);
  ASSERT_TRUE(restarted->start()) << restarted->output();
  server_ = std::move(restarted);
  EXPECT_EQ(db_->query("SELECT count(*) FROM attachments"), "1") << "no record of the cut-off upload";
  EXPECT_TRUE(download(a, done).body == bytes) << "the acknowledged upload, whole";
  bool clean = false;
  for (int i = 0; i < 80 && !clean; ++i) {
    std::this_thread::sleep_for(100ms);
    clean = fs::is_empty(fs::path(dir) / "tmp");
  }
  EXPECT_TRUE(clean) << "the crashed upload's partial file is swept";
}

}  // namespace
}  // namespace chatd::test

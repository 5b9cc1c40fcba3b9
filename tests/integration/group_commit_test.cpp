// Group commit through the real server: many senders in several conversations
// at once share transactions, yet every rule of a single send holds — seqs
// without gaps in each conversation, one message per client_msg_id, and a
// send that breaks its batch fails alone.
#include <future>
#include <map>
#include <regex>
#include <set>

#include "chat_fixture.hpp"

namespace chatd::test {
namespace {

class GroupCommit : public ChatTest {
 protected:
  void SetUp() override {
    ChatTest::SetUp();
    a_ = user("ann");
    b_ = user("bob");
    for (int i = 0; i < 4; ++i) convs_.push_back(group(a_, {b_}, "g" + std::to_string(i)));
  }
  long long metric(const std::string& name) {
    auto body = client().get("/metrics").body;
    std::smatch m;
    if (!std::regex_search(body, m, std::regex("\n" + name + " ([0-9]+)"))) return -1;
    return std::stoll(m[1]);
  }
  HttpResult post(const TestUser& who, long long conv, const Json& body) {
    HttpClient c(server_->port());
    return c.post(conv_path(conv) + "/messages", body, who.token);
  }
  TestUser a_, b_;
  std::vector<long long> convs_;
};

TEST_F(GroupCommit, ConcurrentSendsShareCommitsAndKeepEveryConversationGapFree) {
  constexpr int kSenders = 48, kEach = 5;
  std::vector<std::future<std::vector<HttpResult>>> work;
  for (int s = 0; s < kSenders; ++s) {
    work.push_back(std::async(std::launch::async, [this, s] {
      std::vector<HttpResult> out;
      HttpClient c(server_->port());
      const auto& who = s % 2 ? a_ : b_;
      long long conv = convs_[s % convs_.size()];
      for (int k = 0; k < kEach; ++k) {
        out.push_back(c.post(conv_path(conv) + "/messages",
                             {{"client_msg_id", "s" + std::to_string(s) + "-" + std::to_string(k)},
                              {"body", "m"}},
                             who.token));
      }
      // A retry of the first: the original, not a new message.
      out.push_back(c.post(conv_path(conv) + "/messages",
                           {{"client_msg_id", "s" + std::to_string(s) + "-0"}, {"body", "m"}},
                           who.token));
      return out;
    }));
  }
  std::map<long long, std::set<long long>> seqs;  // conversation -> seqs acknowledged
  for (auto& f : work) {
    auto rs = f.get();
    ASSERT_EQ(rs.size(), static_cast<std::size_t>(kEach + 1));
    for (int k = 0; k < kEach; ++k) {
      ASSERT_EQ(rs[k].status, 201) << rs[k].body;
      auto msg = rs[k].json()["message"];
      EXPECT_TRUE(seqs[msg.value("conversation_id", 0LL)].insert(msg.value("seq", 0LL)).second);
    }
    ASSERT_EQ(rs[kEach].status, 200) << rs[kEach].body;
    EXPECT_EQ(rs[kEach].json()["message"], rs[0].json()["message"]);
  }
  ASSERT_EQ(seqs.size(), convs_.size());
  for (const auto& [conv, got] : seqs) {
    std::size_t n = kSenders / convs_.size() * kEach;
    ASSERT_EQ(got.size(), n);
    EXPECT_EQ(*got.begin(), 2);  // seq 1 is conversation.created
    EXPECT_EQ(*got.rbegin(), static_cast<long long>(n) + 1);
    EXPECT_EQ(db_->query("SELECT last_seq FROM conversations WHERE id = " + std::to_string(conv)),
              std::to_string(n + 1));
    EXPECT_EQ(db_->query("SELECT count(DISTINCT seq) = max(seq) AND min(seq) = 1 FROM events "
                         "WHERE conversation_id = " + std::to_string(conv)),
              "t");
  }
  // Every acknowledged message is stored once, and they shared transactions.
  long long total = kSenders * kEach;
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages"), std::to_string(total));
  EXPECT_EQ(metric("chatd_messages_stored_total"), total);
  long long commits = metric("chatd_send_commits_total");
  EXPECT_GT(commits, 0);
  EXPECT_LT(commits, total) << "no two sends shared a commit";
  // Within a conversation, positions rise with seq (the conversation list
  // pages by them).
  EXPECT_EQ(db_->query("SELECT count(*) FROM (SELECT pos < lead(pos) OVER w AS rising FROM events "
                       "WINDOW w AS (PARTITION BY conversation_id ORDER BY seq)) x "
                       "WHERE NOT rising"),
            "0");
}

TEST_F(GroupCommit, RejectedSendsFailAloneAmongConcurrentGoodOnes) {
  auto outsider = user("carl");
  std::vector<std::future<HttpResult>> good, bad_reply, not_member;
  for (int i = 0; i < 30; ++i) {
    long long conv = convs_[i % convs_.size()];
    good.push_back(std::async(std::launch::async, [this, conv, i] {
      return post(a_, conv, {{"client_msg_id", "ok-" + std::to_string(i)}, {"body", "fine"}});
    }));
    if (i % 3 == 0) {
      bad_reply.push_back(std::async(std::launch::async, [this, conv, i] {
        return post(b_, conv, {{"client_msg_id", "r-" + std::to_string(i)}, {"body", "re"},
                               {"reply_to", 100000}});
      }));
      not_member.push_back(std::async(std::launch::async, [this, conv, i, outsider] {
        return post(outsider, conv, {{"client_msg_id", "n-" + std::to_string(i)}, {"body", "hi"}});
      }));
    }
  }
  for (auto& f : good) EXPECT_EQ(f.get().status, 201);
  for (auto& f : bad_reply) expect_error(f.get(), 400, "invalid_request");
  for (auto& f : not_member) expect_error(f.get(), 404, "not_found");
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages"), "30");
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages WHERE sender_id <> " +
                       std::to_string(a_.id)),
            "0");
}

TEST_F(GroupCommit, ASendThatBreaksItsTransactionFailsAloneAndTheOthersCommit) {
  // A database-level failure for one send only (a stand-in for any constraint
  // the rules did not foresee): the batch is retried send by send.
  db_->query("ALTER TABLE messages ADD CONSTRAINT test_poison CHECK (body <> 'poison')");
  std::vector<std::future<HttpResult>> good, poison;
  for (int i = 0; i < 40; ++i) {
    long long conv = convs_[i % convs_.size()];
    good.push_back(std::async(std::launch::async, [this, conv, i] {
      return post(a_, conv, {{"client_msg_id", "g-" + std::to_string(i)}, {"body", "fine"}});
    }));
    if (i % 10 == 0) {
      poison.push_back(std::async(std::launch::async, [this, conv, i] {
        return post(b_, conv, {{"client_msg_id", "p-" + std::to_string(i)}, {"body", "poison"}});
      }));
    }
  }
  for (auto& f : good) EXPECT_EQ(f.get().status, 201);
  for (auto& f : poison) expect_error(f.get(), 500, "internal");
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages"), "40");
  for (long long conv : convs_) {
    EXPECT_EQ(db_->query("SELECT last_seq = 11 FROM conversations WHERE id = " + std::to_string(conv)),
              "t");
  }
}

class UnbatchedSends : public GroupCommit {
 protected:
  std::vector<std::string> extra_args() const override { return {"--send-batch", "1"}; }
};

TEST_F(UnbatchedSends, SendBatchOneCommitsEveryMessageAlone) {
  std::vector<std::future<HttpResult>> sends;
  for (int i = 0; i < 20; ++i) {
    sends.push_back(std::async(std::launch::async, [this, i] {
      return post(a_, convs_[0], {{"client_msg_id", "u-" + std::to_string(i)}, {"body", "x"}});
    }));
  }
  for (auto& f : sends) EXPECT_EQ(f.get().status, 201);
  EXPECT_EQ(metric("chatd_messages_stored_total"), 20);
  EXPECT_EQ(metric("chatd_send_commits_total"), 20);
}

}  // namespace
}  // namespace chatd::test

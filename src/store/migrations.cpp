#include "chatd/store/migrations.hpp"

#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>

#include "pg.hpp"

namespace chatd::store {

namespace {

constexpr const char* kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  file       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

// One key for every chatd instance sharing the database.
constexpr long long kLockKey = 0x63686174646d6967LL;  // "chatdmig"

std::string sha256_hex(const std::string& data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::map<int, std::pair<std::string, std::string>> applied_versions(pqxx::transaction_base& tx) {
  std::map<int, std::pair<std::string, std::string>> out;
  for (const auto& row : tx.exec("SELECT version, file, checksum FROM schema_migrations")) {
    out[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
  }
  return out;
}

// Throws when an applied migration's file changed since it was applied.
void verify_applied(const std::map<int, std::pair<std::string, std::string>>& applied,
                    const std::vector<Migration>& migrations) {
  for (const auto& m : migrations) {
    auto it = applied.find(m.version);
    if (it != applied.end() && it->second.second != m.checksum) {
      throw MigrationError("migration " + m.file +
                           " was edited after it was applied (checksum " +
                           it->second.second.substr(0, 12) + "… in the database, " +
                           m.checksum.substr(0, 12) +
                           "… on disk); add a new migration instead of editing it");
    }
  }
}

}  // namespace

Migration make_migration(const std::string& file, std::string sql) {
  auto us = file.find('_');
  bool digits = us != std::string::npos && us > 0 &&
                std::all_of(file.begin(), file.begin() + static_cast<long>(us),
                            [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || file.size() < 5 || file.substr(file.size() - 4) != ".sql") {
    throw MigrationError("migration file name must look like 0001_name.sql: " + file);
  }
  Migration m;
  m.version = std::stoi(file.substr(0, us));
  m.file = file;
  m.checksum = sha256_hex(sql);
  m.sql = std::move(sql);
  return m;
}

std::vector<Migration> load_migrations(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<Migration> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw MigrationError("not a directory: " + dir);
  for (const auto& entry : fs::directory_iterator(dir)) {
    auto name = entry.path().filename().string();
    if (entry.path().extension() != ".sql") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(make_migration(name, ss.str()));
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      throw MigrationError("two migrations share version " + std::to_string(out[i].version) +
                           ": " + out[i - 1].file + ", " + out[i].file);
    }
  }
  return out;
}

MigrationReport apply_migrations(const std::string& database_url,
                                 const std::vector<Migration>& migrations) {
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(database_url);
  } catch (const std::exception& e) {
    throw Unavailable(std::string("cannot connect to the database: ") + e.what());
  }
  MigrationReport report;
  {
    pqxx::nontransaction session(*conn);
    // Serialises concurrent starts: the second waits, then finds nothing pending.
    session.exec("SELECT pg_advisory_lock(" + std::to_string(kLockKey) + ")");
    session.exec(kCreateTable);
  }
  try {
    std::map<int, std::pair<std::string, std::string>> applied;
    {
      pqxx::work tx(*conn);
      applied = applied_versions(tx);
      tx.commit();
    }
    verify_applied(applied, migrations);
    for (const auto& m : migrations) {
      if (applied.count(m.version)) continue;
      pqxx::work tx(*conn);
      try {
        tx.exec(m.sql);
      } catch (const pqxx::sql_error& e) {
        throw MigrationError("migration " + m.file + " failed: " + e.what());
      }
      tx.exec_params("INSERT INTO schema_migrations (version, file, checksum) VALUES ($1, $2, $3)",
                     m.version, m.file, m.checksum);
      tx.commit();
      spdlog::info("applied migration {}", m.file);
      ++report.applied;
    }
    pqxx::work tx(*conn);
    report.current = tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0]
                         .as<int>();
    tx.commit();
  } catch (...) {
    try {
      pqxx::nontransaction(*conn).exec("SELECT pg_advisory_unlock_all()");
    } catch (...) {
    }
    throw;
  }
  pqxx::nontransaction(*conn).exec("SELECT pg_advisory_unlock_all()");
  conn->disconnect();
  return report;
}

std::string schema_problem(Connection& c, const std::vector<Migration>& migrations) {
  return transact(c, [&](Transaction& t) -> std::string {
    Tx& tx = tx_of(t);
    auto exists = tx.work().exec("SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0];
    if (!exists.as<bool>()) return "schema not initialised: run `chatd migrate`";
    auto applied = applied_versions(tx.work());
    for (const auto& m : migrations) {
      auto it = applied.find(m.version);
      if (it == applied.end()) return "migration " + m.file + " is not applied";
      if (it->second.second != m.checksum) return "migration " + m.file + " differs from the applied one";
    }
    return "";
  });
}

}  // namespace chatd::store

namespace chatd::store {

namespace generated {
struct EmbeddedFile {
  const char* name;
  const char* sql;
};
// Written at build time from migrations/*.sql by cmake/embed_migrations.cmake.
extern const EmbeddedFile kMigrationFiles[];
extern const std::size_t kMigrationCount;
}  // namespace generated

std::vector<Migration> embedded_migrations() {
  std::vector<Migration> out;
  for (std::size_t i = 0; i < generated::kMigrationCount; ++i) {
    out.push_back(make_migration(generated::kMigrationFiles[i].name,
                                 generated::kMigrationFiles[i].sql));
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return out;
}

}  // namespace chatd::store

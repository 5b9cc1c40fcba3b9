// Numbered plain-SQL migrations (migrations/NNNN_name.sql), applied in order,
// each recorded in schema_migrations with a SHA-256 checksum. An applied file
// whose content changed stops the start; an advisory lock keeps two instances
// from applying at once.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace chatd::store {

class Connection;

struct Migration {
  int version = 0;
  std::string file;  // e.g. 0001_accounts.sql
  std::string sql;
  std::string checksum;  // hex SHA-256 of sql
};

struct MigrationError : std::runtime_error {
  explicit MigrationError(const std::string& what) : std::runtime_error(what) {}
};

// The migrations compiled into the binary from migrations/.
std::vector<Migration> embedded_migrations();
// The migrations in a directory (files NNNN_*.sql), sorted by version.
std::vector<Migration> load_migrations(const std::string& dir);
// Parses and checks one file's name; throws MigrationError for a bad name.
Migration make_migration(const std::string& file, std::string sql);

struct MigrationReport {
  int applied = 0;   // applied by this call
  int current = 0;   // highest version now in the database
};

// Applies what is pending. Throws MigrationError (checksum mismatch, bad SQL)
// or Unavailable (database unreachable).
MigrationReport apply_migrations(const std::string& database_url,
                                 const std::vector<Migration>& migrations);

// For readiness: empty when every known migration is applied unchanged,
// otherwise the reason the schema is not current.
std::string schema_problem(Connection& conn, const std::vector<Migration>& migrations);

}  // namespace chatd::store

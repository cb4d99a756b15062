// SqliteMessageStore: MessageStore on SQLite (C API), one database file in the data directory.
//
// - WAL journal, synchronous=FULL: a commit returns only after the WAL is fsynced, so an acked
//   message survives a power cut, not only a process crash. NORMAL would lose the last
//   transactions on power loss, which breaks "acked means durable"; group commit (StorageWorker)
//   is what keeps FULL affordable.
// - Every statement is prepared once at open().
// - Dedupe window that survives restarts (see MessageStore): the unique index
//   messages(room, sender, client_id) stays; a lookup that finds a row older than the window
//   treats it as expired and renames that row's client_id ("<id>~expired~<msg_id>") so the new
//   append can use the id. When retention trims messages, the dedupe keys of those still inside
//   the window move to the table dedupe_trimmed (pruned by age at each trim), so a resend of a
//   trimmed message is still answered with its original ack.
// - open() refuses a database it cannot write (opened read-only, or a first commit fails): a
//   node that cannot store would answer every send `unavailable`. The write probe (open() and
//   probeWrite()) replaces one row of the table store_meta.
// - Keeps the committed position of every room in memory; a batch works on a copy that replaces
//   the committed view only after COMMIT succeeded.
#pragma once

#include "messagestore.h"

#include <QString>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace parley::server {

class SqliteMessageStore final : public MessageStore {
public:
    //! `path` is the database file (parleyd uses DATA_DIR/parley.db).
    explicit SqliteMessageStore(QString path, Retention retention = {});
    ~SqliteMessageStore() override;

    SqliteMessageStore(const SqliteMessageStore&) = delete;
    SqliteMessageStore& operator=(const SqliteMessageStore&) = delete;

    std::string open() override;
    void close() override;
    std::vector<RoomPosition> loadRooms() override;
    CommitResult commit(const CommitBatch& batch) override;
    HistoryResult history(const HistoryQuery& query) override;
    std::string probeWrite() override;

private:
    bool exec(const char* sql, std::string* error);
    std::string lastError() const;
    bool prepareAll(std::string* error);
    void finalizeAll();
    // Inside a transaction: the room's position, created when absent. nullptr on failure.
    RoomPosition* stageRoom(const std::string& room,
        std::unordered_map<std::string, RoomPosition>& staged, std::int64_t nowMs,
        std::string* error);
    // Inside a transaction: applies the retention bounds to `position`'s room.
    bool trim(RoomPosition* position, std::int64_t nowMs, std::string* error);
    bool readMessage(sqlite3_stmt* stmt, const std::string& room, const std::string& epoch,
        protocol::Message* out);

    QString m_path;
    Retention m_retention;
    sqlite3* m_db = nullptr;
    std::unordered_map<std::string, RoomPosition> m_rooms; // committed state
    sqlite3_stmt* m_begin = nullptr;
    sqlite3_stmt* m_commit = nullptr;
    sqlite3_stmt* m_rollback = nullptr;
    sqlite3_stmt* m_insertRoom = nullptr;
    sqlite3_stmt* m_updateRoomSeq = nullptr;
    sqlite3_stmt* m_insertMessage = nullptr;
    sqlite3_stmt* m_findDuplicate = nullptr;
    sqlite3_stmt* m_findTrimmed = nullptr;
    sqlite3_stmt* m_expireDuplicate = nullptr;
    sqlite3_stmt* m_forgetTrimmed = nullptr;
    sqlite3_stmt* m_oldestKept = nullptr;
    sqlite3_stmt* m_keepTrimmedKeys = nullptr;
    sqlite3_stmt* m_deleteOld = nullptr;
    sqlite3_stmt* m_pruneTrimmed = nullptr;
    sqlite3_stmt* m_updateFirstSeq = nullptr;
    sqlite3_stmt* m_selectAfter = nullptr;
    sqlite3_stmt* m_selectBefore = nullptr;
    sqlite3_stmt* m_probe = nullptr;
};

} // namespace parley::server

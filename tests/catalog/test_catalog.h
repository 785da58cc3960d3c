// The catalog test: one executable, its test functions in test_catalog.cpp (records,
// transactions, constraints) and test_catalog_files.cpp (migrations, crashes, bad files).
#pragma once

#include <QObject>

class TestCatalog : public QObject {
    Q_OBJECT

private slots:
    void creation();
    void models_round_trip();
    void domains_round_trip();
    void artifacts_and_runs_round_trip();
    void remove_model_cascades();
    void chats_and_messages();
    void message_alternatives();
    void transactions();
    void constraint_errors();
    void raw_sql_checks();
    void migration_from_version_1();
    void newer_version_refused();
    void crash_during_transaction();
    void bad_file_random_bytes();
    void bad_file_truncated();
    void bad_file_damaged_with_wal();
    void bad_file_foreign_database();
    void zero_length_file_is_damage();
    void schema_lost_is_damage();
    void missing_table_is_damage();
    void new_catalog_created_whole();
    void directory_instead_of_file();
    void parent_not_a_folder();
    void unreadable_file();
    void open_error_reasons();
    void move_aside_corrupt();
};

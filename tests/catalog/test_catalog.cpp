// The SQLite catalog: creation, round trips of every record, transactions and constraint
// errors. Migrations, crash safety and bad files are in test_catalog_files.cpp.
#include "test_catalog.h"

#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <thread>

#include "catalog_test_util.h"

using namespace catalog_test;

void TestCatalog::creation() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    QVERIFY(!fs::exists(file));
    {
        Catalog cat(file);
        QCOMPARE(cat.schema_version(), Catalog::current_schema_version);
        QCOMPARE(cat.path(), file);
        QVERIFY(fs::exists(file));
        sqlite3* db = cat.handle();
        QVERIFY(db != nullptr);
        QCOMPARE(query_int(db, "PRAGMA user_version"),
                 std::int64_t(Catalog::current_schema_version));
        QCOMPARE(qs(query_text(db, "PRAGMA journal_mode")), QStringLiteral("wal"));
        QCOMPARE(query_int(db, "PRAGMA foreign_keys"), std::int64_t(1));
        QCOMPARE(query_int(db, "PRAGMA synchronous"), std::int64_t(1));       // NORMAL
        QCOMPARE(query_int(db, "PRAGMA busy_timeout"), std::int64_t(30000));  // waits, not fails
        QVERIFY(cat.list_models().empty());
        QVERIFY(cat.list_chats().empty());

        // Moving keeps the connection usable.
        Catalog moved(std::move(cat));
        QCOMPARE(moved.path(), file);
        QVERIFY(moved.list_domains().empty());
    }
    // The version and WAL mode are stored in the file, as another reader sees them.
    RawDb raw(file, SQLITE_OPEN_READONLY);
    QVERIFY(raw.db != nullptr);
    QCOMPARE(query_int(raw.db, "PRAGMA user_version"),
             std::int64_t(Catalog::current_schema_version));
    QCOMPARE(qs(query_text(raw.db, "PRAGMA journal_mode")), QStringLiteral("wal"));
    QCOMPARE(query_int(raw.db, "PRAGMA application_id"), std::int64_t(0x4D455357));
    // Reopening an up-to-date catalog changes nothing.
    Catalog again(file);
    QCOMPARE(again.schema_version(), Catalog::current_schema_version);
}

void TestCatalog::models_round_trip() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    Catalog cat(file);
    const auto zbase = cat.add_model(base_model("z-base"));
    const auto bbase = cat.add_model(base_model("b-base"));
    ModelRecord e = expert_model("a-expert", zbase);
    const auto expert = cat.add_model(e);
    const auto expert2 = cat.add_model(expert_model("c-expert", zbase));
    QVERIFY(zbase > 0 && bbase > 0 && expert > 0 && expert2 > 0);

    const auto found = cat.find_model("a-expert");
    QVERIFY(found.has_value());
    QCOMPARE(found->id, expert);
    QCOMPARE(qs(found->name), QStringLiteral("a-expert"));
    QCOMPARE(qs(found->path), qs(e.path));
    QCOMPARE(qs(found->architecture), qs(e.architecture));
    QCOMPARE(qs(found->dtype), QStringLiteral("F32"));
    QCOMPARE(found->parameter_count, e.parameter_count);
    QCOMPARE(found->bytes, e.bytes);
    QCOMPARE(qs(found->content_hash), qs(e.content_hash));
    QVERIFY(found->role == ModelRole::expert);
    QVERIFY(found->base_model_id.has_value());
    QCOMPARE(*found->base_model_id, zbase);
    QVERIFY2(is_iso_timestamp(found->created_at), found->created_at.c_str());

    const auto by_id = cat.model(zbase);
    QVERIFY(by_id.has_value());
    QCOMPARE(qs(by_id->name), QStringLiteral("z-base"));
    QVERIFY(by_id->role == ModelRole::base);
    QVERIFY(!by_id->base_model_id.has_value());
    QVERIFY(!cat.find_model("nobody").has_value());
    QVERIFY(!cat.model(9999).has_value());

    // Bases first, then by name.
    const auto all = cat.list_models();
    QCOMPARE(all.size(), std::size_t(4));
    QCOMPARE(qs(all[0].name), QStringLiteral("b-base"));
    QCOMPARE(qs(all[1].name), QStringLiteral("z-base"));
    QCOMPARE(qs(all[2].name), QStringLiteral("a-expert"));
    QCOMPARE(qs(all[3].name), QStringLiteral("c-expert"));

    const auto experts = cat.experts_of(zbase);
    QCOMPARE(experts.size(), std::size_t(2));
    QCOMPARE(experts[0].id, expert);
    QCOMPARE(experts[1].id, expert2);
    QVERIFY(cat.experts_of(bbase).empty());

    QCOMPARE(qs(to_string(ModelRole::base)), QStringLiteral("base"));
    QCOMPARE(qs(to_string(ModelRole::expert)), QStringLiteral("expert"));

    // Removing an unused base works; the data survives reopening.
    cat.remove_model(bbase);
    QVERIFY(!cat.model(bbase).has_value());
    Catalog reopened(file);
    QCOMPARE(reopened.list_models().size(), std::size_t(3));
}

void TestCatalog::domains_round_trip() {
    QTemporaryDir dir;
    Catalog cat(fs::path(dir.path().toStdString()) / "catalog.sqlite");
    const auto base = cat.add_model(base_model("base"));
    const auto math = cat.add_model(expert_model("math-expert", base));
    const auto code = cat.add_model(expert_model("code-expert", base));

    const std::vector<std::string> examples = {"what is 7*6?", "solve x^2 = 4", "integrate x"};
    const auto dmath = cat.add_domain("math", "arithmetic, algebra", examples);
    const auto dcode = cat.add_domain("code", "programming");
    const auto dchat = cat.add_domain("chat", "small talk", {"hi"});

    auto found = cat.find_domain("math");
    QVERIFY(found.has_value());
    QCOMPARE(found->id, dmath);
    QCOMPARE(qs(found->description), QStringLiteral("arithmetic, algebra"));
    QCOMPARE(found->examples.size(), examples.size());
    for (std::size_t i = 0; i < examples.size(); ++i)
        QCOMPARE(qs(found->examples[i]), qs(examples[i]));
    QVERIFY(!cat.find_domain("poetry").has_value());

    // Replacing the examples keeps the new order.
    cat.set_domain_examples(dmath, {"third", "first", "second"});
    found = cat.find_domain("math");
    QCOMPARE(found->examples.size(), std::size_t(3));
    QCOMPARE(qs(found->examples[0]), QStringLiteral("third"));
    QCOMPARE(qs(found->examples[2]), QStringLiteral("second"));
    cat.set_domain_examples(dcode, {"write a loop"});

    const auto list = cat.list_domains();  // by name
    QCOMPARE(list.size(), std::size_t(3));
    QCOMPARE(qs(list[0].name), QStringLiteral("chat"));
    QCOMPARE(qs(list[1].name), QStringLiteral("code"));
    QCOMPARE(list[1].examples.size(), std::size_t(1));
    QCOMPARE(qs(list[2].name), QStringLiteral("math"));

    cat.link_expert_domain(math, dmath);
    cat.link_expert_domain(math, dmath);  // linking twice is harmless
    cat.link_expert_domain(math, dchat);
    cat.link_expert_domain(code, dcode);
    cat.link_expert_domain(code, dchat);
    auto of_math = cat.domains_of(math);
    QCOMPARE(of_math.size(), std::size_t(2));
    QCOMPARE(qs(of_math[0].name), QStringLiteral("chat"));
    QCOMPARE(qs(of_math[1].name), QStringLiteral("math"));
    QCOMPARE(of_math[1].examples.size(), std::size_t(3));
    auto for_chat = cat.experts_for_domain(dchat);
    QCOMPARE(for_chat.size(), std::size_t(2));
    QCOMPARE(qs(for_chat[0].name), QStringLiteral("code-expert"));
    QCOMPARE(qs(for_chat[1].name), QStringLiteral("math-expert"));

    cat.unlink_expert_domain(math, dchat);
    QCOMPARE(cat.domains_of(math).size(), std::size_t(1));
    QCOMPARE(cat.experts_for_domain(dchat).size(), std::size_t(1));

    // A base is not linked to domains.
    VERIFY_CONTAINS(catalog_error([&] { cat.link_expert_domain(base, dmath); }), "base model");
    VERIFY_CONTAINS(catalog_error([&] { cat.link_expert_domain(math, 999); }),
                    "no domain with id 999");

    // Removing a domain removes its examples and links.
    cat.remove_domain(dchat);
    QVERIFY(!cat.find_domain("chat").has_value());
    QVERIFY(cat.domains_of(code).size() == 1);
    QCOMPARE(query_int(cat.handle(),
                       "SELECT count(*) FROM domain_examples WHERE domain_id NOT "
                       "IN (SELECT id FROM domains)"),
             std::int64_t(0));
    VERIFY_CONTAINS(catalog_error([&] { cat.remove_domain(dchat); }), "no domain with id");
    VERIFY_CONTAINS(catalog_error([&] { cat.add_domain("math", "again"); }),
                    "a domain named 'math' already exists");
}

void TestCatalog::artifacts_and_runs_round_trip() {
    QTemporaryDir dir;
    Catalog cat(fs::path(dir.path().toStdString()) / "catalog.sqlite");
    const auto base = cat.add_model(base_model("base"));
    const auto e1 = cat.add_model(expert_model("e1", base));
    const auto e2 = cat.add_model(expert_model("e2", base));

    DeltaArtifactRecord a{0, e1, "/deltas/e1-2bit.msd", "meswitch", 2, 17, 123456, 2.31, {}};
    const auto a1 = cat.add_delta_artifact(a);
    const auto a2 = cat.add_delta_artifact({0, e2, "/deltas/e2.msd", "rtn", 4, 0, 999, 4.0, {}});
    const auto arts = cat.delta_artifacts();
    QCOMPARE(arts.size(), std::size_t(2));
    QCOMPARE(arts[0].id, a1);
    QCOMPARE(arts[0].expert_id, e1);
    QCOMPARE(qs(arts[0].path), qs(a.path));
    QCOMPARE(qs(arts[0].method), QStringLiteral("meswitch"));
    QCOMPARE(arts[0].bits, 2);
    QCOMPARE(arts[0].salient_count, std::int64_t(17));
    QCOMPARE(arts[0].bytes, std::int64_t(123456));
    QCOMPARE(arts[0].bits_per_param, 2.31);
    QVERIFY(is_iso_timestamp(arts[0].created_at));
    const auto only_e2 = cat.delta_artifacts(e2);
    QCOMPARE(only_e2.size(), std::size_t(1));
    QCOMPARE(only_e2[0].id, a2);

    auto run = run_with_layers(e1, 5);
    run.artifact_id = a1;
    const auto r1 = cat.add_compression_run(run);
    CompressionRunRecord failed = run_with_layers(e2, 0);
    failed.status = RunStatus::failed;
    failed.message = "out of memory on layer 3";
    const auto r2 = cat.add_compression_run(failed);

    const auto got = cat.compression_run(r1);
    QVERIFY(got.has_value());
    QCOMPARE(got->expert_id, e1);
    QVERIFY(got->artifact_id.has_value());
    QCOMPARE(*got->artifact_id, a1);
    QCOMPARE(qs(got->method), QStringLiteral("meswitch"));
    QCOMPARE(got->bits, 2);
    QCOMPARE(qs(got->salient_spec), QStringLiteral("2%"));
    QVERIFY(got->status == RunStatus::finished);
    QCOMPARE(got->seconds, 12.5);
    QCOMPARE(got->mean_rel_output_error, 0.0125);
    QVERIFY(is_iso_timestamp(got->created_at));
    QCOMPARE(got->layers.size(), std::size_t(5));
    for (std::size_t i = 0; i < 5; ++i) {
        const LayerStat& want = run.layers[i];
        const LayerStat& have = got->layers[i];
        QCOMPARE(qs(have.layer), qs(want.layer));
        QCOMPARE(have.rows, want.rows);
        QCOMPARE(have.cols, want.cols);
        QCOMPARE(have.salient, want.salient);
        QCOMPARE(have.bits_per_param, want.bits_per_param);
        QCOMPARE(have.rel_output_error, want.rel_output_error);
        QCOMPARE(have.rel_weight_error, want.rel_weight_error);
        QCOMPARE(have.baseline_rel_output_error, want.baseline_rel_output_error);
        QCOMPARE(have.seconds, want.seconds);
    }

    const auto all = cat.compression_runs();
    QCOMPARE(all.size(), std::size_t(2));
    QVERIFY(all[0].layers.empty());  // without layers unless asked
    QVERIFY(all[1].status == RunStatus::failed);
    QCOMPARE(qs(all[1].message), QStringLiteral("out of memory on layer 3"));
    QVERIFY(!all[1].artifact_id.has_value());
    const auto e1_runs = cat.compression_runs(e1, true);
    QCOMPARE(e1_runs.size(), std::size_t(1));
    QCOMPARE(e1_runs[0].layers.size(), std::size_t(5));
    QCOMPARE(cat.compression_runs(e2).front().id, r2);
    QVERIFY(!cat.compression_run(9999).has_value());

    for (auto s : {RunStatus::running, RunStatus::cancelled}) {
        auto r = run_with_layers(e2, 1);
        r.status = s;
        const auto id = cat.add_compression_run(r);
        QVERIFY(cat.compression_run(id)->status == s);
    }

    // Removing the artifact keeps the run and clears its link.
    cat.remove_delta_artifact(a1);
    QCOMPARE(cat.delta_artifacts().size(), std::size_t(1));
    const auto after = cat.compression_run(r1);
    QVERIFY(after.has_value());
    QVERIFY(!after->artifact_id.has_value());
    QCOMPARE(after->layers.size(), std::size_t(5));
    VERIFY_CONTAINS(catalog_error([&] { cat.remove_delta_artifact(a1); }), "no such artifact");

    VERIFY_CONTAINS(catalog_error([&] {
                        cat.add_delta_artifact({0, 77, "/x.msd", "rtn", 2, 0, 0, 0, {}});
                    }),
                    "names expert id 77 which does not exist");
    VERIFY_CONTAINS(catalog_error([&] {
                        cat.add_delta_artifact({0, base, "/x.msd", "rtn", 2, 0, 0, 0, {}});
                    }),
                    "is a base model, not an expert");
    auto bad_run = run_with_layers(e1, 3);
    bad_run.artifact_id = 4242;
    VERIFY_CONTAINS(catalog_error([&] { cat.add_compression_run(bad_run); }),
                    "delta artifact id 4242 which does not exist");
    QCOMPARE(cat.compression_runs().size(), std::size_t(4));  // the refused run left nothing
}

void TestCatalog::remove_model_cascades() {
    QTemporaryDir dir;
    Catalog cat(fs::path(dir.path().toStdString()) / "catalog.sqlite");
    const auto base = cat.add_model(base_model("base"));
    const auto e1 = cat.add_model(expert_model("e1", base));
    const auto e2 = cat.add_model(expert_model("e2", base));
    const auto domain = cat.add_domain("math", "", {"a", "b"});
    cat.link_expert_domain(e1, domain);
    cat.link_expert_domain(e2, domain);
    const auto art = cat.add_delta_artifact({0, e1, "/d/e1.msd", "meswitch", 2, 1, 1, 2.0, {}});
    auto run = run_with_layers(e1, 4);
    run.artifact_id = art;
    cat.add_compression_run(run);
    cat.add_compression_run(run_with_layers(e2, 2));
    const auto chat = cat.create_chat("c");
    const auto msg = cat.add_message({0, chat, "assistant", "answer", e1, 0.9, 3, 1, 2, 3, {}});

    VERIFY_CONTAINS(catalog_error([&] { cat.remove_model(base); }),
                    "cannot remove base 'base': experts 'e1', 'e2' still use it");

    cat.remove_model(e1);
    QVERIFY(!cat.model(e1).has_value());
    QVERIFY(cat.delta_artifacts(e1).empty());
    QVERIFY(cat.compression_runs(e1).empty());
    QCOMPARE(cat.compression_runs().size(), std::size_t(1));
    sqlite3* db = cat.handle();
    QCOMPARE(query_int(db, "SELECT count(*) FROM compression_layer_stats"), std::int64_t(2));
    QCOMPARE(cat.experts_for_domain(domain).size(), std::size_t(1));
    QCOMPARE(cat.find_domain("math")->examples.size(), std::size_t(2));  // the domain stays
    const auto msgs = cat.messages(chat);
    QCOMPARE(msgs.size(), std::size_t(1));  // the message stays, answered by "no longer known"
    QCOMPARE(msgs[0].id, msg);
    QVERIFY(!msgs[0].expert_id.has_value());

    VERIFY_CONTAINS(catalog_error([&] { cat.remove_model(base); }),
                    "cannot remove base 'base': expert 'e2' still uses it");
    cat.remove_model(e2);
    cat.remove_model(base);
    QVERIFY(cat.list_models().empty());
    VERIFY_CONTAINS(catalog_error([&] { cat.remove_model(base); }), "no such model");
    QCOMPARE(query_int(db, "SELECT count(*) FROM compression_layer_stats"), std::int64_t(0));
    QCOMPARE(qs(query_text(db, "PRAGMA foreign_key_check")), QStringLiteral("<no row>"));
}

void TestCatalog::chats_and_messages() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    Catalog cat(file);
    const auto base = cat.add_model(base_model("base"));
    const auto expert = cat.add_model(expert_model("math", base));

    const auto c1 = cat.create_chat("first", "You are helpful.");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // distinct millisecond stamps
    const auto c2 = cat.create_chat("second");
    auto chats = cat.list_chats();
    QCOMPARE(chats.size(), std::size_t(2));
    QCOMPARE(chats[0].id, c2);  // most recently updated first
    QCOMPARE(qs(chats[1].system_prompt), QStringLiteral("You are helpful."));
    QVERIFY(is_iso_timestamp(chats[1].created_at));
    QVERIFY(is_iso_timestamp(chats[1].updated_at));
    const std::string c1_updated_before = chats[1].updated_at;

    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    MessageRecord user{0, c1, "user", "what is 6*7?", {}, {}, 6, 0, 0, 0, {}};
    const auto m1 = cat.add_message(user);
    MessageRecord answer{0, c1, "assistant", "42", expert, 0.93, 2, 12.5, 80.25, 24.9, {}};
    const auto m2 = cat.add_message(answer);
    const auto m3 = cat.add_message({0, c1, "user", "and 6*8?", {}, {}, 6, 0, 0, 0, {}});
    const auto m4 = cat.add_message({0, c1, "assistant", "48", {}, {}, 2, 1, 2, 3, {}});
    QVERIFY(m1 < m2 && m2 < m3 && m3 < m4);

    chats = cat.list_chats();
    QCOMPARE(chats[0].id, c1);  // the new message moved it to the top
    QVERIFY(chats[0].updated_at > c1_updated_before);

    auto msgs = cat.messages(c1);
    QCOMPARE(msgs.size(), std::size_t(4));
    QCOMPARE(msgs[0].id, m1);
    QCOMPARE(qs(msgs[0].role), QStringLiteral("user"));
    QCOMPARE(qs(msgs[0].text), QStringLiteral("what is 6*7?"));
    QVERIFY(!msgs[0].expert_id.has_value());
    QVERIFY(!msgs[0].routing_confidence.has_value());
    QCOMPARE(msgs[1].chat_id, c1);
    QCOMPARE(*msgs[1].expert_id, expert);
    QCOMPARE(*msgs[1].routing_confidence, 0.93);
    QCOMPARE(msgs[1].token_count, std::int64_t(2));
    QCOMPARE(msgs[1].prompt_ms, 12.5);
    QCOMPARE(msgs[1].generate_ms, 80.25);
    QCOMPARE(msgs[1].tokens_per_second, 24.9);
    QVERIFY(is_iso_timestamp(msgs[1].created_at));
    QVERIFY(cat.messages(c2).empty());

    // Edit and resend: everything from the second user message on goes.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    cat.add_message({0, c2, "user", "hello", {}, {}, 1, 0, 0, 0, {}});
    QCOMPARE(cat.list_chats()[0].id, c2);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    cat.truncate_chat(c1, m3);
    msgs = cat.messages(c1);
    QCOMPARE(msgs.size(), std::size_t(2));
    QCOMPARE(msgs[1].id, m2);
    QCOMPARE(cat.list_chats()[0].id, c1);  // truncating is a change too
    cat.truncate_chat(c1, m3);             // nothing left to remove: no error
    QCOMPARE(cat.messages(c1).size(), std::size_t(2));

    cat.rename_chat(c2, "renamed");
    cat.set_chat_system_prompt(c2, "Answer in French.");
    chats = cat.list_chats();
    QCOMPARE(qs(chats[1].title), QStringLiteral("renamed"));
    QCOMPARE(qs(chats[1].system_prompt), QStringLiteral("Answer in French."));

    cat.remove_chat(c1);
    QCOMPARE(cat.list_chats().size(), std::size_t(1));
    QVERIFY(cat.messages(c1).empty());
    QCOMPARE(query_int(cat.handle(), "SELECT count(*) FROM messages"), std::int64_t(1));

    VERIFY_CONTAINS(catalog_error([&] { cat.rename_chat(c1, "x"); }), "no such chat");
    VERIFY_CONTAINS(catalog_error([&] { cat.remove_chat(c1); }), "no such chat");
    VERIFY_CONTAINS(catalog_error([&] { cat.truncate_chat(c1, 1); }), "no such chat");
    VERIFY_CONTAINS(catalog_error([&] { cat.set_chat_system_prompt(c1, "x"); }), "no such chat");
    QCOMPARE(qs(to_string(RunStatus::cancelled)), QStringLiteral("cancelled"));
}

// Regenerate keeps the earlier answers: the message row is the chosen alternative (what the next
// turn reads), the others stay, the choice survives reopening, and the alternatives go with the
// message (edit and resend) and with the chat.
void TestCatalog::message_alternatives() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    std::int64_t chat = 0, question = 0, answer = 0, expert = 0;
    {
        Catalog cat(file);
        const auto base = cat.add_model(base_model("base"));
        expert = cat.add_model(expert_model("math", base));
        chat = cat.create_chat("alternatives");
        question = cat.add_message({0, chat, "user", "6*7?", {}, {}, 3, 0, 0, 0, {}});
        answer = cat.add_message({0, chat, "assistant", "42", expert, 0.9, 1, 1, 2, 3, {}});
        auto msgs = cat.messages(chat);
        QCOMPARE(msgs[1].alternative, 0);
        QCOMPARE(msgs[1].alternative_count, 1);
        auto alts = cat.alternatives(answer);
        QCOMPARE(alts.size(), std::size_t(1));  // never regenerated: the message itself
        QCOMPARE(qs(alts[0].text), QStringLiteral("42"));
        QCOMPARE(query_int(cat.handle(), "SELECT count(*) FROM message_alternatives"),
                 std::int64_t(0));

        // Regenerate twice: the new answer is chosen, the earlier ones are kept in order.
        QCOMPARE(cat.add_alternative(answer, {0, 0, "", "forty-two", {}, {}, 5, 2, 4, 6, {}}), 1);
        msgs = cat.messages(chat);
        QCOMPARE(msgs.size(), std::size_t(2));
        QCOMPARE(msgs[1].id, answer);
        QCOMPARE(qs(msgs[1].text), QStringLiteral("forty-two"));
        QVERIFY(!msgs[1].expert_id.has_value());  // the new answer's own routing
        QCOMPARE(msgs[1].token_count, std::int64_t(5));
        QCOMPARE(msgs[1].alternative, 1);
        QCOMPARE(msgs[1].alternative_count, 2);
        QCOMPARE(cat.add_alternative(answer, {0, 0, "", "6*7=42", expert, 0.7, 4, 1, 1, 1, {}}), 2);
        alts = cat.alternatives(answer);
        QCOMPARE(alts.size(), std::size_t(3));
        QCOMPARE(qs(alts[0].text), QStringLiteral("42"));
        QCOMPARE(*alts[0].expert_id, expert);
        QCOMPARE(*alts[0].routing_confidence, 0.9);
        QCOMPARE(qs(alts[1].text), QStringLiteral("forty-two"));
        QCOMPARE(qs(alts[2].text), QStringLiteral("6*7=42"));
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(alts[std::size_t(i)].alternative, i);
            QCOMPARE(alts[std::size_t(i)].alternative_count, 3);
            QVERIFY(is_iso_timestamp(alts[std::size_t(i)].created_at));
        }

        // Back to the first: the message row is that answer again, with its expert.
        cat.choose_alternative(answer, 0);
        msgs = cat.messages(chat);
        QCOMPARE(qs(msgs[1].text), QStringLiteral("42"));
        QCOMPARE(*msgs[1].expert_id, expert);
        QCOMPARE(msgs[1].alternative, 0);
        QCOMPARE(msgs[1].alternative_count, 3);

        VERIFY_CONTAINS(catalog_error([&] { cat.choose_alternative(answer, 3); }),
                        "has no alternative 4");
        VERIFY_CONTAINS(catalog_error([&] { cat.choose_alternative(answer, -1); }),
                        "has no alternative");
        VERIFY_CONTAINS(catalog_error([&] { cat.add_alternative(question, {}); }), "not an answer");
        VERIFY_CONTAINS(catalog_error([&] { cat.add_alternative(answer + 100, {}); }),
                        "no such message");
        MessageRecord ghost;
        ghost.expert_id = expert + 100;
        VERIFY_CONTAINS(catalog_error([&] { cat.add_alternative(answer, ghost); }),
                        "does not exist");
        QCOMPARE(cat.alternatives(answer).size(), std::size_t(3));  // the failures left nothing
        cat.choose_alternative(answer, 2);
    }
    {
        // Reopened (a restart): the same alternatives, the same choice.
        Catalog cat(file);
        const auto msgs = cat.messages(chat);
        QCOMPARE(qs(msgs[1].text), QStringLiteral("6*7=42"));
        QCOMPARE(msgs[1].alternative, 2);
        QCOMPARE(msgs[1].alternative_count, 3);

        // A removed expert leaves the alternative, without its expert.
        cat.remove_model(expert);
        QVERIFY(!cat.alternatives(answer)[0].expert_id.has_value());

        // Edit and resend from the question: the answer and its alternatives go.
        cat.truncate_chat(chat, question);
        QVERIFY(cat.messages(chat).empty());
        QVERIFY(cat.alternatives(answer).empty());
        QCOMPARE(query_int(cat.handle(), "SELECT count(*) FROM message_alternatives"),
                 std::int64_t(0));
        const auto again = cat.add_message({0, chat, "assistant", "a", {}, {}, 1, 0, 0, 0, {}});
        cat.add_alternative(again, {0, 0, "", "b", {}, {}, 1, 0, 0, 0, {}});
        cat.remove_chat(chat);
        QCOMPARE(query_int(cat.handle(), "SELECT count(*) FROM message_alternatives"),
                 std::int64_t(0));
        QCOMPARE(qs(query_text(cat.handle(), "PRAGMA foreign_key_check")),
                 QStringLiteral("<no row>"));
    }
}

void TestCatalog::transactions() {
    QTemporaryDir dir;
    Catalog cat(fs::path(dir.path().toStdString()) / "catalog.sqlite");
    const auto base = cat.add_model(base_model("base"));

    // A failing body leaves nothing behind.
    const std::string failed = catalog_error([&] {
        cat.transaction([&] {
            cat.add_model(expert_model("e1", base));
            cat.create_chat("inside");
            cat.add_model(base_model("base"));  // duplicate: throws
        });
    });
    VERIFY_CONTAINS(failed, "a model named 'base' already exists");
    QVERIFY(!cat.find_model("e1").has_value());
    QVERIFY(cat.list_chats().empty());

    // A non-catalog exception rolls back too and is rethrown unchanged.
    bool caught = false;
    try {
        cat.transaction([&] {
            cat.create_chat("doomed");
            throw std::runtime_error("user code failed");
        });
    } catch (const std::runtime_error& e) {
        caught = std::string(e.what()) == "user code failed";
    }
    QVERIFY(caught);
    QVERIFY(cat.list_chats().empty());

    // Nested: an inner failure caught by the outer body undoes only the inner part.
    cat.transaction([&] {
        cat.create_chat("outer");
        const std::string inner = catalog_error([&] {
            cat.transaction([&] {
                cat.create_chat("inner");
                cat.rename_chat(424242, "nobody");  // throws
            });
        });
        VERIFY_CONTAINS(inner, "no such chat");
        cat.add_model(expert_model("e2", base));  // add_model's own transaction joins this one
    });
    const auto chats = cat.list_chats();
    QCOMPARE(chats.size(), std::size_t(1));
    QCOMPARE(qs(chats[0].title), QStringLiteral("outer"));
    QVERIFY(cat.find_model("e2").has_value());
    QVERIFY(sqlite3_get_autocommit(cat.handle()) != 0);  // no transaction left open
}

void TestCatalog::constraint_errors() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    Catalog cat(file);
    const auto base = cat.add_model(base_model("foo"));
    const auto e1 = cat.add_model(expert_model("e1", base));

    std::string msg = catalog_error([&] { cat.add_model(base_model("foo")); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ": a model named 'foo' already exists");

    ModelRecord orphan = expert_model("orphan", 0);
    orphan.base_model_id.reset();
    VERIFY_CONTAINS(catalog_error([&] { cat.add_model(orphan); }),
                    "expert 'orphan' names no base model");
    VERIFY_CONTAINS(catalog_error([&] { cat.add_model(expert_model("lost", 7)); }),
                    "expert 'lost' names base id 7 which does not exist");
    VERIFY_CONTAINS(catalog_error([&] { cat.add_model(expert_model("chained", e1)); }),
                    "that is an expert, not a base model");
    ModelRecord base_with_base = base_model("weird");
    base_with_base.base_model_id = base;
    VERIFY_CONTAINS(catalog_error([&] { cat.add_model(base_with_base); }),
                    "cannot itself name a base");
    VERIFY_CONTAINS(catalog_error([&] { cat.add_model(base_model("")); }), "needs a name");
    QCOMPARE(cat.list_models().size(), std::size_t(2));

    VERIFY_CONTAINS(catalog_error([&] { cat.remove_model(base); }),
                    "cannot remove base 'foo': expert 'e1' still uses it");

    msg = catalog_error([&] {
        cat.add_message({0, 4711, "user", "hello?", {}, {}, 0, 0, 0, 0, {}});
    });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ": cannot add a message to chat id 4711");
    VERIFY_CONTAINS(msg, "no such chat");
    const auto chat = cat.create_chat("c");
    VERIFY_CONTAINS(catalog_error([&] {
                        cat.add_message({0, chat, "robot", "beep", {}, {}, 0, 0, 0, 0, {}});
                    }),
                    "message role 'robot' is not one of system, user, assistant");
    VERIFY_CONTAINS(catalog_error([&] {
                        cat.add_message({0, chat, "assistant", "x", 999, 0.5, 0, 0, 0, 0, {}});
                    }),
                    "names expert id 999 which does not exist");
    QVERIFY(cat.messages(chat).empty());
    VERIFY_CONTAINS(catalog_error([&] { cat.set_domain_examples(55, {"x"}); }),
                    "no domain with id 55");
}

void TestCatalog::raw_sql_checks() {
    // The schema itself refuses bad rows, whoever writes them.
    QTemporaryDir dir;
    Catalog cat(fs::path(dir.path().toStdString()) / "catalog.sqlite");
    const auto base = cat.add_model(base_model("base"));
    const auto expert = cat.add_model(expert_model("expert", base));
    sqlite3* db = cat.handle();

    auto expect_constraint = [&](const char* sql, const char* what) {
        const int rc = exec_rc(db, sql);
        QVERIFY2((rc & 0xff) == SQLITE_CONSTRAINT,
                 qPrintable(QStringLiteral("%1: rc %2 (%3)")
                                .arg(QLatin1String(what))
                                .arg(rc)
                                .arg(QLatin1String(sqlite3_errmsg(db)))));
    };
    expect_constraint("INSERT INTO models (name, role) VALUES ('x', 'teacher')", "bad role");
    expect_constraint("INSERT INTO models (name, role) VALUES ('x', 'expert')",
                      "expert without base");
    expect_constraint("INSERT INTO models (name, role, base_model_id) VALUES ('x', 'base', 1)",
                      "base with a base");
    expect_constraint("INSERT INTO models (name, role, base_model_id) VALUES ('x', 'expert', 99)",
                      "expert naming a missing base (foreign key)");
    const std::string bad_status =
        "INSERT INTO compression_runs (expert_id, method, bits, status) VALUES (" +
        std::to_string(expert) + ", 'rtn', 2, 'paused')";
    expect_constraint(bad_status.c_str(), "bad status");
    expect_constraint("INSERT INTO messages (chat_id, role) VALUES (12345, 'user')",
                      "message for a missing chat (foreign key)");
    cat.create_chat("c");
    expect_constraint("INSERT INTO messages (chat_id, role) VALUES (1, 'narrator')",
                      "bad message role");
    QCOMPARE(cat.list_models().size(), std::size_t(2));
}

QTEST_GUILESS_MAIN(TestCatalog)

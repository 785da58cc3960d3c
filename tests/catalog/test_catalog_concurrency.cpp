// One catalog used by the Studio and the CLI at the same time (issue #14, item 1).
//
// cliBesideOpenConnections: the reproduction. The Studio holds several connections to the
// catalog in one process (GUI thread, engine worker, chat backend); opening another one used to
// read the file's header through a second descriptor, whose close dropped all of the process's
// POSIX locks on the file, so `meswitch list` in a terminal believed it was alone, checkpointed
// and deleted the WAL under the running app.
//
// studioAndCliAtOnce: the Studio's catalog users (EngineHost's worker importing and compressing,
// the chat backend answering on its own thread, the GUI thread writing chats and listing) and
// CLI processes (list, import, compress, chat) interleaved for MESWITCH_STRESS_SECONDS (default
// 60). Nothing may fail, nothing written may be missing afterwards or from a later `list` of
// another process, and the WAL and SHM files are never deleted under a live connection.
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <fcntl.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "catalog_test_util.h"
#include "chat_engine_backend.h"
#include "engine_worker.h"
#include "meswitch/catalog.h"
#include "meswitch/import.h"
#include "meswitch/paths.h"
#include "meswitch/progress.h"
#include "test_support.h"

extern char** environ;

namespace fs = std::filesystem;
using meswitch::Catalog;

namespace {

struct CliRun {
    int exit_code = -1;  // -1: killed by a signal or not started
    std::string out;
    std::string err;
    std::string command;
};

std::string slurp(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs the CLI as its own process (posix_spawn: no Qt event loop needed, any thread).
CliRun run_cli(const fs::path& home, const std::vector<std::string>& args,
               const fs::path& scratch) {
    static std::atomic<int> counter{0};
    const int n = counter++;
    const fs::path out = scratch / ("cli-" + std::to_string(n) + ".out");
    const fs::path err = scratch / ("cli-" + std::to_string(n) + ".err");
    // $MESWITCH_CLI runs another build of the CLI (e.g. a copy, while the build tree changes).
    static const std::string cli = qEnvironmentVariableIsSet("MESWITCH_CLI")
                                       ? qEnvironmentVariable("MESWITCH_CLI").toStdString()
                                       : std::string(MESWITCH_CLI_PATH);
    std::vector<std::string> argv_s = {cli, "--home", home.string()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    CliRun run;
    for (auto& a : argv_s) {
        argv.push_back(a.data());
        run.command += (run.command.empty() ? "" : " ") + a;
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        run.err = "posix_spawn failed: " + std::string(std::strerror(rc));
        return run;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = slurp(out);
    run.err = slurp(err);
    fs::remove(out);
    fs::remove(err);
    return run;
}

// The catalog's -wal / -shm files that this process holds open although they were deleted.
std::vector<std::string> deleted_side_files(const fs::path& catalog) {
    std::vector<std::string> found;
    const std::string name = catalog.filename().string();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc/self/fd", ec)) {
        char target[4096];
        const ssize_t n = ::readlink(entry.path().c_str(), target, sizeof target - 1);
        if (n <= 0) continue;
        const std::string link(target, static_cast<std::size_t>(n));
        if (link.find(name) != std::string::npos && link.find("(deleted)") != std::string::npos)
            found.push_back(link);
    }
    return found;
}

std::string integrity(const fs::path& file) {
    catalog_test::RawDb raw(file, SQLITE_OPEN_READONLY);
    return catalog_test::query_text(raw.db, "PRAGMA integrity_check");
}

std::set<std::string> listed_names(const std::string& json_text) {
    std::set<std::string> names;
    const auto doc = QJsonDocument::fromJson(QByteArray::fromStdString(json_text));
    for (const auto& m : doc.object().value("models").toArray())
        names.insert(m.toObject().value("name").toString().toStdString());
    return names;
}

}  // namespace

class TestCatalogConcurrency : public QObject {
    Q_OBJECT

private slots:
    void cliBesideOpenConnections();
    void creatingAtOnce();
    void studioAndCliAtOnce();
};

void TestCatalogConcurrency::cliBesideOpenConnections() {
    QTemporaryDir dir;
    const fs::path home = dir.path().toStdString();
    const fs::path file = meswitch::catalog_path(home);
    const fs::path wal = file.string() + "-wal";

    Catalog gui(file);  // the Studio's GUI-thread connection
    gui.add_model(catalog_test::base_model("first"));
    QVERIFY(fs::exists(wal));
    Catalog worker(file);  // a second connection in the same process (the engine worker's)
    QVERIFY(!worker.list_models().empty());

    const CliRun list = run_cli(home, {"list", "--json"}, home);
    QVERIFY2(list.exit_code == 0, list.err.c_str());
    QVERIFY(listed_names(list.out).count("first"));
    const auto deleted = deleted_side_files(file);
    QVERIFY2(deleted.empty(), deleted.empty() ? "" : deleted.front().c_str());
    QVERIFY2(fs::exists(wal), "the CLI removed the WAL while the Studio's connections were open");

    // Work written by the app is visible to the CLI while the app runs, and the app goes on.
    gui.add_model(catalog_test::base_model("second"));
    const CliRun again = run_cli(home, {"list", "--json"}, home);
    QVERIFY2(again.exit_code == 0, again.err.c_str());
    QVERIFY(listed_names(again.out).count("second"));
    QCOMPARE(worker.list_models().size(), std::size_t(2));
    worker.add_model(catalog_test::base_model("third"));
    QCOMPARE(gui.list_models().size(), std::size_t(3));
    QVERIFY(deleted_side_files(file).empty());
    QCOMPARE(integrity(file), std::string("ok"));
}

void TestCatalogConcurrency::creatingAtOnce() {
    // Threads of this process and CLI processes create the same new catalog at once: every
    // one opens it (one wins the creation, the others open its result) and no write is lost.
    for (int round = 0; round < 5; ++round) {
        QTemporaryDir dir;
        const fs::path home = dir.path().toStdString();
        const fs::path file = meswitch::catalog_path(home);
        std::vector<std::thread> threads;
        std::vector<std::string> errors(6);
        std::vector<CliRun> cli(3);
        for (int t = 0; t < 6; ++t)
            threads.emplace_back([&, t] {
                try {
                    Catalog c(file);
                    c.add_model(catalog_test::base_model("thread-" + std::to_string(t)));
                } catch (const std::exception& e) {
                    errors[t] = e.what();
                }
            });
        for (int p = 0; p < 3; ++p)
            threads.emplace_back([&, p] { cli[p] = run_cli(home, {"list", "--json"}, home); });
        for (auto& t : threads) t.join();
        for (const auto& e : errors) QVERIFY2(e.empty(), e.c_str());
        for (const auto& r : cli) QVERIFY2(r.exit_code == 0, r.err.c_str());
        Catalog c(file);
        QCOMPARE(c.list_models().size(), std::size_t(6));
        QCOMPARE(c.schema_version(), Catalog::current_schema_version);
        // No temporary catalog is left beside it.
        for (const auto& entry : fs::directory_iterator(home)) {
            const std::string name = entry.path().filename().string();
            QVERIFY2(name == "logs" || name.rfind("catalog.sqlite", 0) == 0, name.c_str());
        }
    }
}

void TestCatalogConcurrency::studioAndCliAtOnce() {
    MESWITCH_REQUIRE_FIXTURE(base_dir, "stories260K-hf");
    MESWITCH_REQUIRE_FIXTURE(math_dir, "stories260K-experts/math");
    MESWITCH_REQUIRE_FIXTURE(code_dir, "stories260K-experts/code");
    const int seconds = qEnvironmentVariableIsSet("MESWITCH_STRESS_SECONDS")
                            ? qEnvironmentVariableIntValue("MESWITCH_STRESS_SECONDS")
                            : 60;
    QTemporaryDir dir;
    const fs::path home = dir.path().toStdString();
    const fs::path scratch = home / "scratch";
    fs::create_directories(scratch);
    const fs::path file = meswitch::catalog_path(home);

    // The Studio's GUI-thread connection, open for the whole run.
    Catalog gui(file);
    {
        meswitch::ImportOptions o;
        o.name = "base";
        meswitch::import_model(gui, base_dir, o);
    }

    std::mutex mutex;
    std::vector<std::string> failures;
    std::set<std::string> committed;  // model names whose import has returned
    int chats_written = 0, messages_written = 0;
    std::atomic<int> imports{0}, compressions{0}, answers{0}, cli_lists{0}, cli_imports{0},
        cli_compressions{0}, cli_chats{0}, gui_rounds{0};
    std::atomic<bool> stop{false};
    auto fail = [&](const std::string& what) {
        std::lock_guard lock(mutex);
        failures.push_back(what);
        stop = true;
    };
    auto note_committed = [&](const std::string& name) {
        std::lock_guard lock(mutex);
        committed.insert(name);
    };
    auto committed_now = [&] {
        std::lock_guard lock(mutex);
        return committed;
    };
    committed.insert("base");

    // The watcher: the WAL and SHM must never be deleted under this process's connections.
    std::thread watcher([&] {
        while (!stop) {
            const auto deleted = deleted_side_files(file);
            if (!deleted.empty()) fail("deleted under a live connection: " + deleted.front());
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });

    // CLI processes, one after the other on their own thread: a listing that must show every
    // model committed before it started, an import, a compression of that import, a chat.
    std::thread cli([&] {
        for (int n = 0; !stop; ++n) {
            const auto before = committed_now();
            const CliRun list = run_cli(home, {"list", "--json"}, scratch);
            if (list.exit_code != 0) return fail(list.command + ": " + list.err);
            const auto names = listed_names(list.out);
            for (const auto& name : before)
                if (!names.count(name))
                    return fail(list.command + " does not list '" + name + "', committed earlier");
            ++cli_lists;
            if (stop) break;
            const std::string name = "cli-" + std::to_string(n);
            const CliRun imp = run_cli(
                home, {"import", code_dir.string(), "--name", name, "--base", "base"}, scratch);
            if (imp.exit_code != 0) return fail(imp.command + ": " + imp.err);
            note_committed(name);
            ++cli_imports;
            if (stop) break;
            if (n % 2 == 0) {
                const CliRun comp = run_cli(
                    home, {"compress", "--expert", name, "--bits", "2", "--threads", "1"}, scratch);
                if (comp.exit_code != 0) return fail(comp.command + ": " + comp.err);
                ++cli_compressions;
            } else {
                // Every other chat is routed: the router trains and stores itself (a write).
                const std::string expert = n % 4 == 1 ? "auto" : name;
                const CliRun chat = run_cli(home,
                                            {"chat", "--prompt", "What is 2 plus 3?", "--expert",
                                             expert, "--max-tokens", "4", "--threads", "1"},
                                            scratch);
                if (chat.exit_code != 0) return fail(chat.command + ": " + chat.err);
                ++cli_chats;
            }
        }
    });

    // The chat backend on its own thread (as ChatWorker runs it): answers with the base.
    std::thread chat([&] {
        try {
            EngineChatBackend backend(file, 1);
            Catalog own(file);
            const auto base = own.find_model("base");
            for (int n = 0; !stop; ++n) {
                ChatRequest request;
                request.conversation = {{"user", "What is 2 plus 2?"}};
                // Every 20th answer is routed: the router reopens (and retrains, storing
                // itself in the catalog) whenever the catalog's experts have changed.
                if (n % 20 != 0) request.expertId = base->id;
                request.device = "cpu";
                request.options.max_tokens = 4;
                meswitch::CancelToken cancel;
                backend.answer(request, cancel, [](const ChatRouting&) {}, {});
                ++answers;
            }
        } catch (const std::exception& e) {
            fail(std::string("chat backend: ") + e.what());
        }
    });

    // The engine worker (EngineHost's thread): imports and compressions, chained.
    EngineHost host(file, home);
    int next_import = 0;
    std::string pending_name;
    std::function<void()> post_import = [&] {
        if (stop) return;
        pending_name = "studio-" + std::to_string(next_import++);
        meswitch::ImportOptions o;
        o.name = pending_name;
        o.base = "base";
        o.domain = "math";
        o.examples = {"What is 2 plus 2?", "Add 3 and 4."};
        host.postImport(math_dir, o);
    };
    QObject::connect(&host, &EngineHost::finished,
                     [&](quint64, const QString& kind, const QVariant&) {
                         if (kind == "import") {
                             note_committed(pending_name);
                             ++imports;
                             if (stop) return;
                             meswitch::CompressOptions o;
                             o.bits = 2;
                             o.threads = 1;
                             host.postCompress(pending_name, o);
                         } else if (kind == "compress") {
                             ++compressions;
                             post_import();
                         }
                     });
    QObject::connect(&host, &EngineHost::failed,
                     [&](quint64, const QString& kind, const QString& message, bool) {
                         fail("Studio " + kind.toStdString() + ": " + message.toStdString());
                     });
    post_import();

    // The GUI thread: chats and messages (as the Chat page writes them) and listings.
    QElapsedTimer clock;
    clock.start();
    std::vector<std::pair<std::int64_t, int>> chat_rows;  // chat id, messages written
    while (!stop && clock.elapsed() < seconds * 1000) {
        try {
            const auto id = gui.create_chat("chat " + std::to_string(chats_written));
            ++chats_written;
            int count = 0;
            for (const char* role : {"user", "assistant"}) {
                meswitch::MessageRecord m;
                m.chat_id = id;
                m.role = role;
                m.text = std::string(role) + " text";
                gui.add_message(m);
                ++count;
                ++messages_written;
            }
            chat_rows.emplace_back(id, count);
            // What was committed before the listing started must be in it (read in this
            // order: a name committed while list_models() runs may or may not be).
            const auto before = committed_now();
            const auto models = gui.list_models();
            for (const auto& name : before) {
                bool found = false;
                for (const auto& m : models) found = found || m.name == name;
                if (!found) fail("the GUI's listing misses '" + name + "', committed earlier");
            }
            gui.compression_runs();
            ++gui_rounds;
        } catch (const std::exception& e) {
            fail(std::string("GUI thread: ") + e.what());
        }
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        QTest::qWait(20);
    }
    stop = true;
    while (host.busy()) QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    cli.join();
    chat.join();
    watcher.join();

    qInfo(
        "%d s: Studio imports %d, compressions %d, chat answers %d, GUI rounds %d (%d chats); "
        "CLI lists %d, imports %d, compressions %d, chats %d",
        seconds, imports.load(), compressions.load(), answers.load(), gui_rounds.load(),
        chats_written, cli_lists.load(), cli_imports.load(), cli_compressions.load(),
        cli_chats.load());
    for (const auto& f : failures) qWarning("%s", f.c_str());
    QVERIFY2(failures.empty(), failures.empty() ? "" : failures.front().c_str());
    QVERIFY(imports > 0 && compressions > 0 && answers > 0 && cli_lists > 0 && cli_imports > 0);

    // Nothing lost: every import, every compression (run + artifact file), every message.
    const auto models = gui.list_models();
    for (const auto& name : committed_now()) {
        bool found = false;
        for (const auto& m : models) found = found || m.name == name;
        QVERIFY2(found, name.c_str());
    }
    const auto runs = gui.compression_runs();
    QCOMPARE(int(runs.size()), compressions.load() + cli_compressions.load());
    for (const auto& run : runs) QVERIFY(run.status == meswitch::RunStatus::finished);
    const auto artifacts = gui.delta_artifacts();
    QCOMPARE(artifacts.size(), runs.size());
    for (const auto& a : artifacts) QVERIFY2(fs::exists(a.path), a.path.c_str());
    for (const auto& [id, count] : chat_rows) QCOMPARE(int(gui.messages(id).size()), count);
    QVERIFY(deleted_side_files(file).empty());
    QVERIFY(fs::exists(file.string() + "-wal"));
    QCOMPARE(integrity(file), std::string("ok"));
}

QTEST_GUILESS_MAIN(TestCatalogConcurrency)
#include "test_catalog_concurrency.moc"

// The engine's batching: admitting a generate request (routing, the answering model, the
// chat template, a KV cache or a kept one to reuse) and the batched step over every running
// sequence (engine_impl.h, engine.cpp).
#include <spdlog/spdlog.h>

#include "serve/engine_impl.h"

namespace meswitch {

// ------------------------------------------------------------------------- admission

// What the router depends on: models, compressed deltas, domains and their experts.
std::string Engine::Impl::catalog_signature() {
    Catalog& cat = open_catalog();
    std::string sig;
    for (const auto& m : cat.list_models())
        sig += std::to_string(m.id) + ':' + m.content_hash + ':' +
               std::to_string(m.base_model_id.value_or(0)) + ';';
    sig += '|';
    for (const auto& a : cat.delta_artifacts()) sig += std::to_string(a.id) + ';';
    sig += '|';
    for (const auto& d : cat.list_domains()) {
        sig += d.name + ':' + std::to_string(d.examples.size()) + ';';
        for (const auto& e : cat.experts_for_domain(d.id)) sig += std::to_string(e.id) + ',';
    }
    return sig;
}

// The router over the catalog as it is now: opened again (retrained when its examples or
// experts changed) after any change to the catalog, e.g. an expert imported meanwhile.
// nullptr when the catalog cannot route yet (no experts with domains): why_not says why,
// "routing unavailable: …", and the base answers.
Router* Engine::Impl::current_router(std::string* why_not) {
    const std::string sig = catalog_signature();
    if (sig != router_signature) {
        router.reset();
        router_error.clear();
        router_signature = sig;
        try {
            RouterOptions ro = options.router;
            ro.base = base_name;
            if (backend->host_model()) ro.model = backend->host_model();
            ensure_base_weights();
            router = std::make_unique<Router>(Router::open(open_catalog(), ro));
            spdlog::info("engine: {} router over {} domains of {}", router->info().router,
                         router->info().domains.size(), base_name);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::not_found) {
                router_signature.clear();  // try again next time (e.g. a busy file)
                throw;
            }
            router_error = e.what();
            spdlog::info("engine: routing unavailable: {}", router_error);
        }
    }
    if (!router && why_not) *why_not = "routing unavailable: " + router_error;
    return router.get();
}

// Side models nobody is answering with are dropped before another one loads (their kept
// caches with them): at most one idle side model stays in memory.
void Engine::Impl::drop_idle_sides(const std::string& keep) {
    for (auto it = sides.begin(); it != sides.end();) {
        if (it->first == keep || it->second->users > 0) {
            ++it;
            continue;
        }
        SideModel* side = it->second.get();
        parked.remove_if([&](const Parked& p) { return p.side == side; });
        spdlog::info("engine: {} leaves memory", it->first);
        it = sides.erase(it);
    }
}

SideModel& Engine::Impl::side_for_full(const ModelRecord& m) {
    const std::string key = "full:" + m.name;
    if (!sides.count(key)) drop_idle_sides(key);
    auto& slot = sides[key];
    if (!slot) {
        auto side = std::make_unique<SideModel>();
        side->key = key;
        side->full.emplace(Model::load(m.path, ModelOptions{options.threads}));
        side->tokenizer.emplace(Tokenizer::from_folder(m.path));
        for (const std::string& n : side->full->weight_names())
            side->bytes += side->full->weight(n).nbytes;
        side->description = "full weights (not compressed)";
        spdlog::info("engine: {} answers from its full weights ({})", m.name, mib(side->bytes));
        slot = std::move(side);
    }
    return *slot;
}

SideModel& Engine::Impl::side_for_variant(const ModelRecord& m, std::size_t* variant) {
    Catalog& cat = open_catalog();
    std::error_code ec;
    const auto want = std::filesystem::weakly_canonical(m.path, ec);
    for (const moe::ConsolidationPlan& plan : moe::list_plans(cat)) {
        for (std::size_t v = 0; v < plan.variants.size(); ++v) {
            if (std::filesystem::weakly_canonical(plan.variants[v], ec) != want) continue;
            const std::string key = "moe:" + std::to_string(plan.catalog_id.value_or(0));
            if (!sides.count(key)) drop_idle_sides(key);
            auto& slot = sides[key];
            if (!slot) {
                auto side = std::make_unique<SideModel>();
                side->key = key;
                moe::RuntimeOptions ro;
                ro.threads = options.threads;
                side->family = std::make_unique<moe::ReconfigurableMoe>(plan, ro);
                side->tokenizer.emplace(Tokenizer::from_folder(plan.base));
                side->bytes = side->family->memory().device_total();
                side->description = "variant of consolidated MoE plan '" + plan.name + "'";
                spdlog::info("engine: MoE plan '{}' resident for {} variants ({})", plan.name,
                             plan.variants.size(), mib(side->bytes));
                slot = std::move(side);
            }
            *variant = v;
            return *slot;
        }
    }
    throw Error(ErrorKind::not_found, "'" + m.name + "' is in no MoE consolidation plan");
}

// The sampling defaults of the model answering `s` (after resolve).
GenerationDefaults Engine::Impl::defaults_for(const Sequence& s) {
    if (s.expert.empty() && !s.side) return base_defaults;
    if (options.catalog.empty()) return {};
    const auto m = open_catalog().find_model(s.expert);
    return m ? generation_defaults_of(*m) : GenerationDefaults{};
}

// Which model answers `name` for sequence `s` (after routing).
void Engine::Impl::resolve(Sequence& s, const std::string& name) {
    if (name.empty() || name == "base" || name == base_name) {
        s.expert.clear();
        s.out.model = base_name;
        s.out.weights = "base weights";
        s.cache_key = "base";
        return;
    }
    if (!pool->contains(name)) {
        if (options.catalog.empty())
            throw Error(ErrorKind::not_found,
                        "expert '" + name + "' is not loaded (load_expert it first)");
        Catalog& cat = open_catalog();
        const auto m = cat.find_model(name);
        if (!m)
            throw Error(ErrorKind::not_found, "expert '" + name +
                                                  "' is neither loaded nor in the catalog (see: "
                                                  "meswitch list)");
        if (m->role == ModelRole::base)
            throw Error(ErrorKind::invalid_argument,
                        "'" + name + "' is another base model; this engine serves base '" +
                            base_name + "' and its experts");
        const bool ours = !base_id || (m->base_model_id && *m->base_model_id == *base_id);
        const bool compressed = !cat.delta_artifacts(m->id).empty();
        if (ours && compressed) {
            load_from_catalog(name, *m);
        } else {
            // A MoE variant, or an uncompressed expert: a side model.
            SideModel* side = nullptr;
            try {
                side = &side_for_variant(*m, &s.variant);
            } catch (const Error& e) {
                if (e.kind() != ErrorKind::not_found) throw;
            }
            if (!side) {
                if (!ours)
                    throw Error(ErrorKind::invalid_argument,
                                "expert '" + name +
                                    "' belongs to another base; this engine serves '" + base_name +
                                    "'");
                side = &side_for_full(*m);
            }
            s.side = side;
            s.expert = name;
            s.out.model = name;
            s.out.weights = side->description;
            s.cache_key = side->key + "#" + std::to_string(s.variant);
            return;
        }
    }
    s.expert = name;
    s.out.model = name;
    const auto w = weights_of.find(name);
    s.out.weights = w != weights_of.end() ? w->second : "compressed delta";
    s.cache_key = "expert:" + name;
}

// The prompt's ids: a conversation rendered with the template, dropping the oldest turns
// until it fits the context with room for the answer; or the plain prompt.
std::vector<std::int32_t> Engine::Impl::encode(Sequence& s, const Tokenizer& tok,
                                               std::int64_t context) {
    GenerateRequest& g = s.task.generate;
    if (g.messages.empty()) {
        auto ids = g.prompt_ids.empty() ? tok.encode(g.prompt, g.add_special) : g.prompt_ids;
        if (static_cast<std::int64_t>(ids.size()) > context)
            throw Error(ErrorKind::invalid_argument,
                        "generate: the prompt has " + std::to_string(ids.size()) +
                            " tokens but the model's context is " + std::to_string(context));
        return ids;
    }
    const std::int64_t room = std::clamp<std::int64_t>(g.options.max_tokens, 1, 64);
    std::vector<ChatMessage> messages = g.messages;
    ChatTemplateContext tctx;
    tctx.bos_token = tok.bos_token();
    tctx.eos_token = tok.eos_token();
    tctx.add_generation_prompt = true;
    bool dropped = false;
    for (;;) {
        const RenderedChat r =
            render_chat(tok.chat_template(), messages, tctx, tok.chat_template_origin());
        // Like transformers' apply_chat_template: a template writes the special tokens itself.
        auto ids = tok.encode(r.text, r.used_fallback);
        if (static_cast<std::int64_t>(ids.size()) + room <= context) {
            if (r.used_fallback) {
                s.out.note = "plain chat format (" + r.fallback_reason + ")";
                g.options.stop_strings.push_back("\nUser:");
            }
            if (dropped)
                s.out.note += (s.out.note.empty() ? "" : "; ") +
                              std::string("the oldest messages were left out to fit the context");
            return ids;
        }
        auto first = std::find_if(messages.begin(), messages.end(),
                                  [](const auto& m) { return m.role != "system"; });
        if (std::distance(first, messages.end()) <= 1)
            throw Error(ErrorKind::invalid_argument,
                        "the message is " + std::to_string(ids.size()) +
                            " tokens long; with the answer it does not fit the model's context "
                            "of " +
                            std::to_string(context) + " tokens");
        first = messages.erase(first);
        if (first != messages.end() && first->role == "assistant" &&
            std::distance(first, messages.end()) > 1)
            messages.erase(first);
        dropped = true;
    }
}

std::uint64_t Engine::Impl::kv_in_use() const {
    std::uint64_t n = 0;
    for (const auto& s : seqs) n += s->cache_bytes;
    for (const Parked& p : parked) n += p.bytes;
    return n;
}

// Drops kept caches (oldest first) until `need` more bytes fit the budget.
void Engine::Impl::trim_parked(std::uint64_t need) {
    while (!parked.empty() && kv_in_use() + need > kv_budget) parked.pop_back();
}

void Engine::Impl::allocate_cache(Sequence& s) {
    const ModelConfig& cfg = s.side ? s.side->model().config() : backend->config();
    const auto n = static_cast<std::int64_t>(s.prompt.size());
    // Room for the answer and a next turn of about the same size.
    const std::int64_t want = n + std::max(0, s.task.generate.options.max_tokens);
    const std::int64_t capacity =
        std::max<std::int64_t>(1, std::min<std::int64_t>(cfg.max_position_embeddings,
                                                         want + std::max<std::int64_t>(want, 256)));
    // Prefix reuse: the kept cache of this model sharing the longest prefix with the prompt.
    auto best = parked.end();
    std::size_t best_len = 0;
    for (auto it = parked.begin(); it != parked.end(); ++it) {
        if (it->cache_key != s.cache_key) continue;
        const std::size_t cap = static_cast<std::size_t>(it->cache ? it->cache->capacity()
                                                                   : it->host_cache->capacity());
        if (cap < static_cast<std::size_t>(want)) continue;
        std::size_t l = 0;
        while (l < it->tokens.size() && l < s.prompt.size() && it->tokens[l] == s.prompt[l]) ++l;
        l = std::min(l, s.prompt.size() - 1);  // at least one token to run
        if (l > best_len) best = it, best_len = l;
    }
    constexpr std::size_t min_reuse = 8;
    if (best != parked.end() && best_len >= min_reuse) {
        s.cache = std::move(best->cache);
        s.host_cache = std::move(best->host_cache);
        s.cache_bytes = best->bytes;
        parked.erase(best);
        if (s.cache)
            s.cache->truncate(static_cast<std::int64_t>(best_len));
        else
            s.host_cache->truncate(static_cast<std::int64_t>(best_len));
        s.fed = best_len;
        s.cached.assign(s.prompt.begin(), s.prompt.begin() + static_cast<std::ptrdiff_t>(best_len));
        s.out.reused_tokens = static_cast<int>(best_len);
        return;
    }
    const std::uint64_t bytes = static_cast<std::uint64_t>(capacity) * 2 * sizeof(float) *
                                static_cast<std::uint64_t>(cfg.num_hidden_layers * cfg.kv_dim());
    trim_parked(bytes);
    if (kv_in_use() + bytes > kv_budget && !seqs.empty())
        throw Error(ErrorKind::busy, "kv");  // waits for room (caught by admit)
    if (s.side)
        s.host_cache.emplace(s.side->model().make_cache(capacity));
    else
        s.cache = backend->make_cache(capacity);
    s.cache_bytes = bytes;
}

// Routes, resolves, renders and encodes a waiting request and gives it a cache. False when
// it must wait (no room yet); a request that cannot run fails alone (its on_finished runs).
bool Engine::Impl::admit(Task& task) {
    if (static_cast<int>(seqs.size()) >= std::max(1, options.max_batch)) return false;
    for (const auto& r : seqs)
        if (r->exclusive) return false;
    auto s = std::make_unique<Sequence>();
    s->task = std::move(task);
    s->out.id = s->task.id;
    s->admitted = clock_type::now();
    s->out.queue_ms = ms_between(s->task.submitted, s->admitted);
    GenerateRequest& g = s->task.generate;
    auto give_back = [&] { task = std::move(s->task); };
    try {
        if (s->task.cancel->cancelled()) throw Error(ErrorKind::cancelled, "cancelled");
        std::string name = g.expert;
        if (name == "auto") {
            std::string text = g.route_text;
            if (text.empty())
                for (auto it = g.messages.rbegin(); it != g.messages.rend() && text.empty(); ++it)
                    if (it->role == "user") text = it->content;
            if (text.empty()) text = g.prompt;
            RouteResult r;
            if (Router* rt = current_router(&r.reason)) {
                rt->set_threshold(g.routing_threshold.value_or(options.router.threshold));
                if (backend->host_model()) ensure_base_weights();
                r = rt->route(text);
            } else {
                r.router = "none";  // the base answers; reason says why
            }
            name = r.expert_name;
            s->out.route = std::move(r);
        }
        resolve(*s, name);
        {
            const GenerationDefaults d =
                g.use_model_defaults ? defaults_for(*s) : GenerationDefaults{};
            g.options = resolve_sampling(g.options, d, g.chosen);
            s->out.sampling = describe_sampling(g.options);
            s->out.model_defaults = d.empty() ? "" : d.describe();
        }
        if (!s->expert.empty() && !s->side) {
            serve::SwitchReport report;
            s->delta = pool->resident(s->expert, &report);
            s->out.uploaded = report.uploaded;
            s->out.evicted = report.evicted;
            s->out.switch_ms = report.upload_ms;
            std::string why;
            s->exclusive = g.mode == DeltaMode::merged && !backend->batches_delta(*s->delta, &why);
            if (g.mode == DeltaMode::separate && !backend->batches_delta(*s->delta, &why))
                throw Error(
                    ErrorKind::unsupported,
                    "expert '" + s->expert + "' cannot be computed separately here: " + why);
            if (s->exclusive && !seqs.empty()) {
                give_back();
                return false;
            }
        }
        const Tokenizer& tok = s->side ? *s->side->tokenizer : *tokenizer;
        const ModelConfig& cfg = s->side ? s->side->model().config() : backend->config();
        s->prompt = encode(*s, tok, cfg.max_position_embeddings);
        try {
            allocate_cache(*s);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::busy || std::string(e.what()) != "kv") throw;
            give_back();
            return false;
        }
        if (!s->cache && !s->host_cache)
            throw Error(ErrorKind::out_of_memory, "no KV cache for the request");
        if (s->cache_bytes > kv_budget)
            throw Error(ErrorKind::out_of_memory,
                        "the conversation needs " + mib(s->cache_bytes) +
                            " of KV cache, more than the engine's budget of " + mib(kv_budget));
        GenerateOptions go = g.options;
        go.cancel = nullptr;
        if (!g.messages.empty()) go.continues_prompt = false;  // an answer, not a continuation
        RequestCallbacks* cb = &s->task.callbacks;
        Sequence* raw = s.get();
        s->session.emplace(cfg, tok, s->prompt, go, [cb, raw](std::string_view piece) {
            (void)raw;
            call_back(cb->on_text, piece);
        });
    } catch (...) {
        RequestOutcome out = s->out;
        fail_from_current(out);
        s->session.reset();
        finish_task(s->task, out);
        return true;
    }
    if (s->out.route) call_back(s->task.callbacks.on_route, *s->out.route);
    if (s->side) {
        ++s->side->users;
        s->side->last_used = ++clock;
    }
    if (!s->expert.empty() && !s->side) pool->pin(s->expert);
    if (s->session->finished()) {  // max_tokens 0
        retire(*s);
        return true;
    }
    seqs.push_back(std::move(s));
    return true;
}

// ------------------------------------------------------------------------------ steps

void Engine::Impl::park(Sequence& s) {
    if (!s.cache && !s.host_cache) return;
    if (s.cache_bytes > kv_budget / 2) return;  // not worth keeping
    Parked p;
    p.cache_key = s.cache_key;
    p.tokens = s.cached;
    p.cache = std::move(s.cache);
    p.host_cache = std::move(s.host_cache);
    p.bytes = s.cache_bytes;
    p.side = s.side;
    s.cache_bytes = 0;
    parked.push_front(std::move(p));
    trim_parked(0);
}

// A finished sequence leaves the batch: its outcome goes out, its cache is kept.
void Engine::Impl::retire(Sequence& s) {
    s.out.generation = s.session->take_result();
    s.out.cancelled = s.out.generation.stop_reason == "cancelled";
    s.out.ok = !s.out.cancelled;
    s.out.expert = s.expert;
    if (!s.first_token) s.out.first_token_ms = ms_between(s.task.submitted, clock_type::now());
    if (!s.expert.empty() && !s.side) pool->unpin(s.expert);
    if (s.side) --s.side->users;
    if (!s.out.cancelled) park(s);
    finish_task(s.task, s.out);
}

void Engine::Impl::step() {
    // Cancelled sequences leave before the step.
    for (auto it = seqs.begin(); it != seqs.end();) {
        Sequence& s = **it;
        if (s.task.cancel->cancelled()) {
            s.session->stop("cancelled");
            retire(s);
            it = seqs.erase(it);
        } else {
            ++it;
        }
    }
    if (seqs.empty()) return;

    // An expert left active in separate mode by switch_to: batched steps need the base.
    if (backend->active() && backend->active_mode() == DeltaMode::separate) {
        pool->activate("", DeltaMode::merged);
        merged.clear();
    }
    // Merge policy: one expert wanted by every backend sequence, nothing waiting → in place.
    std::set<std::string> experts;
    bool any_backend = false, any_separate = false, exclusive = false;
    for (const auto& s : seqs) {
        if (s->side) continue;
        any_backend = true;
        experts.insert(s->expert);
        any_separate = any_separate || s->task.generate.mode == DeltaMode::separate;
        exclusive = exclusive || s->exclusive;
    }
    // Waiting requests could join (and want another expert) only while the batch has room.
    bool queue_waiting = false;
    if (static_cast<int>(seqs.size()) < std::max(1, options.max_batch)) {
        std::lock_guard lock(mutex);
        queue_waiting = !queue.empty();
    }
    std::string want_merged;
    if (any_backend && experts.size() == 1 && !experts.begin()->empty()) {
        if (exclusive || (options.merge_policy == "auto" && !any_separate && !queue_waiting))
            want_merged = *experts.begin();
    }
    if (any_backend && want_merged != merged) {
        // Leaving the merged state when a second expert joins; merging when the batch agrees.
        if (!exclusive && experts.size() > 1)
            set_merged("");
        else
            set_merged(want_merged);
    }

    const int chunk = std::max(1, options.prefill_chunk);
    struct Item {
        Sequence* s;
        std::vector<std::int32_t> tokens;
        bool last_chunk;
    };
    std::vector<Item> items;
    for (const auto& sp : seqs) {
        Sequence& s = *sp;
        Item it{&s, {}, true};
        if (s.fed < s.prompt.size()) {
            const std::size_t n = std::min<std::size_t>(s.prompt.size() - s.fed, chunk);
            it.tokens.assign(s.prompt.begin() + static_cast<std::ptrdiff_t>(s.fed),
                             s.prompt.begin() + static_cast<std::ptrdiff_t>(s.fed + n));
            it.last_chunk = s.fed + n == s.prompt.size();
        } else {
            it.tokens = {*s.pending};
        }
        items.push_back(std::move(it));
    }
    // The backend's sequences in one step; side models' per model (and MoE variant).
    // Each sequence's logits, viewed in its forward call's output (no copies).
    std::vector<std::span<float>> logits(items.size());
    std::vector<std::vector<float>> outputs;
    const std::int64_t vocab = backend->config().vocab_size;
    std::vector<std::size_t> backend_items;
    std::map<std::pair<SideModel*, std::size_t>, std::vector<std::size_t>> side_items;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i].s->side)
            side_items[{items[i].s->side, items[i].s->variant}].push_back(i);
        else
            backend_items.push_back(i);
    }
    std::vector<std::size_t> failed;
    std::exception_ptr step_error;
    if (!backend_items.empty()) {
        std::vector<serve::BatchEntry> entries;
        for (std::size_t i : backend_items) {
            Sequence& s = *items[i].s;
            const serve::DeviceDelta* d =
                (!merged.empty() && s.expert == merged) ? nullptr : s.delta;
            entries.push_back({items[i].tokens, s.cache.get(), d, false});
        }
        try {
            std::vector<float>& all = outputs.emplace_back(backend->forward_batch(entries));
            for (std::size_t k = 0; k < backend_items.size(); ++k)
                logits[backend_items[k]] = std::span<float>(all).subspan(
                    k * static_cast<std::size_t>(vocab), static_cast<std::size_t>(vocab));
        } catch (...) {
            step_error = std::current_exception();
            failed.insert(failed.end(), backend_items.begin(), backend_items.end());
        }
    }
    for (auto& [key, idx] : side_items) {
        SideModel& side = *key.first;
        try {
            if (side.family) side.family->activate(key.second);
            std::vector<BatchSequence> batch;
            for (std::size_t i : idx)
                batch.push_back({items[i].tokens, &*items[i].s->host_cache, nullptr, false});
            std::vector<float>& all = outputs.emplace_back(side.model().forward_batch(batch));
            const auto v = static_cast<std::size_t>(side.model().config().vocab_size);
            for (std::size_t k = 0; k < idx.size(); ++k)
                logits[idx[k]] = std::span<float>(all).subspan(k * v, v);
        } catch (...) {
            step_error = std::current_exception();
            failed.insert(failed.end(), idx.begin(), idx.end());
        }
    }
    const int batch_size = static_cast<int>(items.size());
    std::set<Sequence*> done;
    for (std::size_t i : failed) {
        Sequence& s = *items[i].s;
        RequestOutcome out = s.out;
        try {
            std::rethrow_exception(step_error);
        } catch (...) {
            fail_from_current(out);
        }
        s.out = out;
        s.session->stop("error");
        s.out.generation = s.session->take_result();
        if (!s.expert.empty() && !s.side) pool->unpin(s.expert);
        if (s.side) --s.side->users;
        finish_task(s.task, s.out);
        done.insert(&s);
    }
    const auto now = clock_type::now();
    for (std::size_t i = 0; i < items.size(); ++i) {
        Sequence& s = *items[i].s;
        if (done.count(&s)) continue;
        s.out.max_batch_seen = std::max(s.out.max_batch_seen, batch_size);
        s.cached.insert(s.cached.end(), items[i].tokens.begin(), items[i].tokens.end());
        if (s.fed < s.prompt.size()) {
            s.fed += items[i].tokens.size();
            if (!items[i].last_chunk) continue;
            s.session->set_prefill_ms(ms_between(s.admitted, now));
        }
        const bool full = s.cache_size() >= s.cache_capacity();
        s.pending = s.session->step(logits[i], s.task.cancel->cancelled(), full);
        if (!s.first_token && (s.session->generated() > 0 || s.session->finished())) {
            s.first_token = true;
            s.out.first_token_ms = ms_between(s.task.submitted, clock_type::now());
        }
        if (!s.pending) {
            retire(s);
            done.insert(&s);
        }
    }
    seqs.remove_if([&](const std::unique_ptr<Sequence>& s) { return done.count(s.get()) > 0; });
}

}  // namespace meswitch

<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>AboutDialog</name>
    <message>
        <source>Version</source>
        <translation>Version</translation>
    </message>
    <message>
        <source>Qt</source>
        <translation>Qt</translation>
    </message>
    <message>
        <source>%1 (built with %2)</source>
        <translation>%1 (built with %2)</translation>
    </message>
    <message>
        <source>Build</source>
        <translation>Build</translation>
    </message>
    <message>
        <source>%1, %2</source>
        <translation>%1, %2</translation>
    </message>
    <message>
        <source>compiled in (toolkit %1)</source>
        <translation>compiled in (toolkit %1)</translation>
    </message>
    <message>
        <source>architectures %1</source>
        <translation>architectures %1</translation>
    </message>
    <message>
        <source>CUDA</source>
        <translation>CUDA</translation>
    </message>
    <message>
        <source>not compiled in</source>
        <translation>not compiled in</translation>
    </message>
    <message>
        <source>GPUs</source>
        <translation>GPUs</translation>
    </message>
    <message>
        <source>still scanning…</source>
        <translation>still scanning…</translation>
    </message>
    <message>
        <source>not available</source>
        <translation>not available</translation>
    </message>
    <message>
        <source>CUDA runtime</source>
        <translation>CUDA runtime</translation>
    </message>
    <message>
        <source>CUDA driver</source>
        <translation>CUDA driver</translation>
    </message>
    <message>
        <source>no GPU found</source>
        <translation>no GPU found</translation>
    </message>
    <message>
        <source>GPU %1</source>
        <translation>GPU %1</translation>
    </message>
    <message>
        <source>%1, %2 (%3 free), compute capability %4.%5</source>
        <translation>%1, %2 (%3 free), compute capability %4.%5</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>About ME-Switch Studio</source>
        <translation>About ME-Switch Studio</translation>
    </message>
    <message>
        <source>One base model, many compressed experts, one GPU.</source>
        <translation>One base model, many compressed experts, one GPU.</translation>
    </message>
    <message>
        <source>Copy to clipboard</source>
        <translation>Copy to clipboard</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Close</translation>
    </message>
</context>
<context>
    <name>ApiServerController</name>
    <message>
        <source>The chat engine is not available.</source>
        <translation>The chat engine is not available.</translation>
    </message>
    <message>
        <source>The engine could not be started: %1</source>
        <translation>The engine could not be started: %1</translation>
    </message>
</context>
<context>
    <name>ApiServerGroup</name>
    <message>
        <source>Available in the ME-Switch Studio window.</source>
        <translation>Available in the ME-Switch Studio window.</translation>
    </message>
    <message>
        <source>Off: nothing listens.</source>
        <translation>Off: nothing listens.</translation>
    </message>
    <message>
        <source>Not listening: %1</source>
        <translation>Not listening: %1</translation>
    </message>
    <message>
        <source>Paused while the engine is replaced…</source>
        <translation>Paused while the engine is replaced…</translation>
    </message>
    <message>
        <source>the engine is ready</source>
        <translation>the engine is ready</translation>
    </message>
    <message>
        <source>the engine is loading the base; requests get 503 until it is ready</source>
        <translation>the engine is loading the base; requests get 503 until it is ready</translation>
    </message>
    <message>
        <source>the engine failed: %1 (turn the server off and on to try again)</source>
        <translation>the engine failed: %1 (turn the server off and on to try again)</translation>
    </message>
    <message>
        <source>Listening on %1; %2.</source>
        <translation>Listening on %1; %2.</translation>
    </message>
    <message numerus="yes">
        <source>%n client(s) served</source>
        <translation>
            <numerusform>%n client served</numerusform>
            <numerusform>%n clients served</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n request(s)</source>
        <translation>
            <numerusform>%n request</numerusform>
            <numerusform>%n requests</numerusform>
        </translation>
    </message>
    <message>
        <source>Local API server</source>
        <translation>Local API server</translation>
    </message>
    <message>
        <source>Serve the models over an OpenAI-compatible HTTP API</source>
        <translation>Serve the models over an OpenAI-compatible HTTP API</translation>
    </message>
    <message>
        <source>Other programs (editors, chat front ends, OpenAI client libraries) can then use the base and its experts. Requests share the engine with the chat.</source>
        <translation>Other programs (editors, chat front ends, OpenAI client libraries) can then use the base and its experts. Requests share the engine with the chat.</translation>
    </message>
    <message>
        <source>Address:</source>
        <translation>Address:</translation>
    </message>
    <message>
        <source>127.0.0.1 answers this computer only; 0.0.0.0 listens on every network interface.</source>
        <translation>127.0.0.1 answers this computer only; 0.0.0.0 listens on every network interface.</translation>
    </message>
    <message>
        <source>Port:</source>
        <translation>Port:</translation>
    </message>
    <message>
        <source>any free</source>
        <translation>any free</translation>
    </message>
    <message>
        <source>API key:</source>
        <translation>API key:</translation>
    </message>
    <message>
        <source>none (no key is asked for)</source>
        <translation>none (no key is asked for)</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>Show</translation>
    </message>
    <message>
        <source>Base URL:</source>
        <translation>Base URL:</translation>
    </message>
    <message>
        <source>Example:</source>
        <translation>Example:</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Copy</translation>
    </message>
    <message>
        <source>Copies the example command (with the API key) to the clipboard.</source>
        <translation>Copies the example command (with the API key) to the clipboard.</translation>
    </message>
</context>
<context>
    <name>CatalogOpener</name>
    <message>
        <source>%1 (catalog file: %2)</source>
        <translation>%1 (catalog file: %2)</translation>
    </message>
    <message>
        <source>The catalog could not be moved aside, so ME-Switch Studio has to quit.

%1</source>
        <translation>The catalog could not be moved aside, so ME-Switch Studio has to quit.

%1</translation>
    </message>
    <message>
        <source>The old catalog was moved to:
%1

but a new catalog could not be created either, so ME-Switch Studio has to quit.

%2</source>
        <translation>The old catalog was moved to:
%1

but a new catalog could not be created either, so ME-Switch Studio has to quit.

%2</translation>
    </message>
    <message>
        <source>The old catalog was kept and moved to:
%1

A new, empty catalog was created at:
%2</source>
        <translation>The old catalog was kept and moved to:
%1

A new, empty catalog was created at:
%2</translation>
    </message>
    <message>
        <source>Catalog cannot be opened</source>
        <translation>Catalog cannot be opened</translation>
    </message>
    <message>
        <source>ME-Switch Studio cannot open its catalog.</source>
        <translation>ME-Switch Studio cannot open its catalog.</translation>
    </message>
    <message>
        <source>%1

You can move the file aside (it is kept, renamed, for recovery) and start with a fresh, empty catalog, or quit and investigate.</source>
        <translation>%1

You can move the file aside (it is kept, renamed, for recovery) and start with a fresh, empty catalog, or quit and investigate.</translation>
    </message>
    <message>
        <source>Move aside and start fresh</source>
        <translation>Move aside and start fresh</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Quit</translation>
    </message>
    <message>
        <source>ME-Switch Studio catalog</source>
        <translation>ME-Switch Studio catalog</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>ME-Switch Studio cannot open its catalog and has to quit.

%1

To start with another data folder, run: meswitch-studio --home DIR</source>
        <translation>ME-Switch Studio cannot open its catalog and has to quit.

%1

To start with another data folder, run: meswitch-studio --home DIR</translation>
    </message>
</context>
<context>
    <name>ChatCodeBlock</name>
    <message>
        <source>Copy</source>
        <translation>Copy</translation>
    </message>
    <message>
        <source>Copy this code to the clipboard</source>
        <translation>Copy this code to the clipboard</translation>
    </message>
</context>
<context>
    <name>ChatExport</name>
    <message>
        <source>Untitled chat</source>
        <translation>Untitled chat</translation>
    </message>
    <message>
        <source>System prompt:</source>
        <translation>System prompt:</translation>
    </message>
    <message>
        <source>You</source>
        <translation>You</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>Assistant</translation>
    </message>
</context>
<context>
    <name>ChatListModel</name>
    <message>
        <source>Untitled chat</source>
        <translation>Untitled chat</translation>
    </message>
    <message>
        <source>Last message: %1</source>
        <translation>Last message: %1</translation>
    </message>
</context>
<context>
    <name>ChatMessageWidget</name>
    <message>
        <source>You</source>
        <translation>You</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>Assistant</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Error</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Copy</translation>
    </message>
    <message>
        <source>Copy this message to the clipboard</source>
        <translation>Copy this message to the clipboard</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>Edit</translation>
    </message>
    <message>
        <source>Edit this message and send it again (later messages are replaced)</source>
        <translation>Edit this message and send it again (later messages are replaced)</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>Regenerate</translation>
    </message>
    <message>
        <source>Answer this message (it has no answer)</source>
        <translation>Answer this message (it has no answer)</translation>
    </message>
    <message>
        <source>Answer this message again (the earlier answers are kept)</source>
        <translation>Answer this message again (the earlier answers are kept)</translation>
    </message>
    <message>
        <source>Previous answer</source>
        <translation>Previous answer</translation>
    </message>
    <message>
        <source>Next answer</source>
        <translation>Next answer</translation>
    </message>
</context>
<context>
    <name>ChatPage</name>
    <message>
        <source>Chat</source>
        <translation>Chat</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>New chat</translation>
    </message>
    <message>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>Start a new conversation (Ctrl+N)</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>Rename</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>&amp;Expert:</source>
        <translation>&amp;Expert:</translation>
    </message>
    <message>
        <source>Automatic: the router picks the expert for every message; below the routing threshold (Settings) the base model answers.</source>
        <translation>Automatic: the router picks the expert for every message; below the routing threshold (Settings) the base model answers.</translation>
    </message>
    <message>
        <source>Automatic (router)</source>
        <translation>Automatic (router)</translation>
    </message>
    <message>
        <source>S&amp;ystem prompt:</source>
        <translation>S&amp;ystem prompt:</translation>
    </message>
    <message>
        <source>Optional instructions for the model</source>
        <translation>Optional instructions for the model</translation>
    </message>
    <message>
        <source>&amp;Temperature:</source>
        <translation>&amp;Temperature:</translation>
    </message>
    <message>
        <source>0 always picks the most likely token</source>
        <translation>0 always picks the most likely token</translation>
    </message>
    <message>
        <source>Top-&amp;p:</source>
        <translation>Top-&amp;p:</translation>
    </message>
    <message>
        <source>&amp;Max tokens:</source>
        <translation>&amp;Max tokens:</translation>
    </message>
    <message>
        <source>See&amp;d:</source>
        <translation>See&amp;d:</translation>
    </message>
    <message>
        <source>random</source>
        <translation>random</translation>
    </message>
    <message>
        <source>Ask anything: the router sends every message to the expert that suits it.
Ctrl+Enter sends, Esc stops, Ctrl+N starts a new chat.</source>
        <translation>Ask anything: the router sends every message to the expert that suits it.
Ctrl+Enter sends, Esc stops, Ctrl+N starts a new chat.</translation>
    </message>
    <message>
        <source>Editing an earlier message: sending replaces it and everything after it.</source>
        <translation>Editing an earlier message: sending replaces it and everything after it.</translation>
    </message>
    <message>
        <source>Cancel edit</source>
        <translation>Cancel edit</translation>
    </message>
    <message>
        <source>Message (Ctrl+Enter to send)</source>
        <translation>Message (Ctrl+Enter to send)</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Send</translation>
    </message>
    <message>
        <source>Send the message (Ctrl+Enter)</source>
        <translation>Send the message (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Stop</translation>
    </message>
    <message>
        <source>Stop the answer (Esc)</source>
        <translation>Stop the answer (Esc)</translation>
    </message>
    <message>
        <source>%1 (base model)</source>
        <translation>%1 (base model)</translation>
    </message>
    <message>
        <source>full weights</source>
        <translation>full weights</translation>
    </message>
    <message>
        <source>a removed model</source>
        <translation>a removed model</translation>
    </message>
    <message>
        <source>Answered by %1</source>
        <translation>Answered by %1</translation>
    </message>
    <message>
        <source>Answered by the base model %1</source>
        <translation>Answered by the base model %1</translation>
    </message>
    <message>
        <source>Answered by the base model</source>
        <translation>Answered by the base model</translation>
    </message>
    <message>
        <source>routing confidence %1%</source>
        <translation>routing confidence %1%</translation>
    </message>
    <message>
        <source>below the routing threshold %1%</source>
        <translation>below the routing threshold %1%</translation>
    </message>
    <message>
        <source>empty message: not routed</source>
        <translation>empty message: not routed</translation>
    </message>
    <message>
        <source>routing unavailable: %1</source>
        <translation>routing unavailable: %1</translation>
    </message>
    <message>
        <source>chosen by hand</source>
        <translation>chosen by hand</translation>
    </message>
    <message numerus="yes">
        <source>%n tokens</source>
        <translation>
            <numerusform>%n token</numerusform>
            <numerusform>%n tokens</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 tokens/s</source>
        <translation>%1 tokens/s</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>stopped</translation>
    </message>
    <message>
        <source>reached the token limit</source>
        <translation>reached the token limit</translation>
    </message>
    <message>
        <source>reached the context length</source>
        <translation>reached the context length</translation>
    </message>
    <message>
        <source>Choosing the expert…</source>
        <translation>Choosing the expert…</translation>
    </message>
    <message>
        <source>%1 is answering</source>
        <translation>%1 is answering</translation>
    </message>
    <message>
        <source>The base model %1 is answering</source>
        <translation>The base model %1 is answering</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>Error: %1</translation>
    </message>
    <message>
        <source>Delete the conversation &quot;%1&quot; and all its messages? This cannot be undone.</source>
        <translation>Delete the conversation &quot;%1&quot; and all its messages? This cannot be undone.</translation>
    </message>
    <message>
        <source>Delete conversation</source>
        <translation>Delete conversation</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>Stopping…</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>Loading the model…</translation>
    </message>
    <message>
        <source>Routing the message…</source>
        <translation>Routing the message…</translation>
    </message>
    <message>
        <source>Generating with %1…</source>
        <translation>Generating with %1…</translation>
    </message>
    <message numerus="yes">
        <source>Stopped after %n tokens.</source>
        <translation>
            <numerusform>Stopped after %n token.</numerusform>
            <numerusform>Stopped after %n tokens.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 answered: %n tokens at %2 tokens/s.</source>
        <translation>
            <numerusform>%1 answered: %n token at %2 tokens/s.</numerusform>
            <numerusform>%1 answered: %n tokens at %2 tokens/s.</numerusform>
        </translation>
    </message>
    <message>
        <source>The base model is answering</source>
        <translation>The base model is answering</translation>
    </message>
    <message>
        <source>Generating with the base model…</source>
        <translation>Generating with the base model…</translation>
    </message>
    <message numerus="yes">
        <source>The base model answered: %n tokens at %1 tokens/s.</source>
        <translation>
            <numerusform>The base model answered: %n token at %1 tokens/s.</numerusform>
            <numerusform>The base model answered: %n tokens at %1 tokens/s.</numerusform>
        </translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>Export…</translation>
    </message>
    <message>
        <source>Save this conversation as a Markdown or JSON file</source>
        <translation>Save this conversation as a Markdown or JSON file</translation>
    </message>
    <message>
        <source>Export conversation</source>
        <translation>Export conversation</translation>
    </message>
    <message>
        <source>Markdown (*.md);;JSON (*.json)</source>
        <translation>Markdown (*.md);;JSON (*.json)</translation>
    </message>
    <message>
        <source>the conversation no longer exists</source>
        <translation>the conversation no longer exists</translation>
    </message>
    <message>
        <source>Could not export the conversation to %1: %2</source>
        <translation>Could not export the conversation to %1: %2</translation>
    </message>
    <message>
        <source>Exported the conversation to %1.</source>
        <translation>Exported the conversation to %1.</translation>
    </message>
    <message>
        <source>Stopped before the answer began. Regenerate answers again.</source>
        <translation>Stopped before the answer began. Regenerate answers again.</translation>
    </message>
    <message>
        <source>model defaults: %1</source>
        <translation>model defaults: %1</translation>
    </message>
    <message>
        <source>M&amp;odel defaults</source>
        <translation>M&amp;odel defaults</translation>
    </message>
    <message>
        <source>Use the sampling settings each model ships in its generation_config.json (temperature, top-p, max tokens) where it has them; the values here fill the rest. Off: always the values here.</source>
        <translation>Use the sampling settings each model ships in its generation_config.json (temperature, top-p, max tokens) where it has them; the values here fill the rest. Off: always the values here.</translation>
    </message>
</context>
<context>
    <name>CompressCharts</name>
    <message>
        <source>ME-Switch</source>
        <translation>ME-Switch</translation>
    </message>
    <message>
        <source>Output error per layer</source>
        <translation>Output error per layer</translation>
    </message>
    <message>
        <source>Bits per parameter</source>
        <translation>Bits per parameter</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Size</translation>
    </message>
    <message>
        <source>Relative output error ‖X(Δ−Δ̂)ᵀ‖ / ‖XΔᵀ‖ per layer</source>
        <translation>Relative output error ‖X(Δ−Δ̂)ᵀ‖ / ‖XΔᵀ‖ per layer</translation>
    </message>
    <message>
        <source>RTN baseline (same bits)</source>
        <translation>RTN baseline (same bits)</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>Layer</translation>
    </message>
    <message>
        <source>Relative error</source>
        <translation>Relative error</translation>
    </message>
    <message>
        <source>Stored bits per parameter per layer</source>
        <translation>Stored bits per parameter per layer</translation>
    </message>
    <message>
        <source>bits / parameter</source>
        <translation>bits / parameter</translation>
    </message>
    <message>
        <source>Bits</source>
        <translation>Bits</translation>
    </message>
    <message>
        <source>Expert size before and after compression</source>
        <translation>Expert size before and after compression</translation>
    </message>
    <message>
        <source>Expert weights</source>
        <translation>Expert weights</translation>
    </message>
    <message>
        <source>Compressed delta</source>
        <translation>Compressed delta</translation>
    </message>
    <message>
        <source>MiB</source>
        <translation>MiB</translation>
    </message>
    <message>
        <source>Layers: %1</source>
        <translation>Layers: %1</translation>
    </message>
    <message>
        <source>%1 → %2 (%3× smaller)</source>
        <translation>%1 → %2 (%3× smaller)</translation>
    </message>
</context>
<context>
    <name>CompressPage</name>
    <message>
        <source>Calibration text (one sample per line)</source>
        <translation>Calibration text (one sample per line)</translation>
    </message>
    <message>
        <source>Text files (*.txt);;All files (*)</source>
        <translation>Text files (*.txt);;All files (*)</translation>
    </message>
    <message>
        <source>Compress</source>
        <translation>Compress</translation>
    </message>
    <message>
        <source>Compression settings</source>
        <translation>Compression settings</translation>
    </message>
    <message>
        <source>&amp;Expert:</source>
        <translation>&amp;Expert:</translation>
    </message>
    <message>
        <source>&amp;Method:</source>
        <translation>&amp;Method:</translation>
    </message>
    <message>
        <source>ME-Switch keeps the most salient input channels in 16 bits and quantizes the rest; RTN rounds every weight to the nearest level; BitDelta keeps one sign bit per weight and one scale per matrix</source>
        <translation>ME-Switch keeps the most salient input channels in 16 bits and quantizes the rest; RTN rounds every weight to the nearest level; BitDelta keeps one sign bit per weight and one scale per matrix</translation>
    </message>
    <message>
        <source>&amp;Bits:</source>
        <translation>&amp;Bits:</translation>
    </message>
    <message>
        <source>&amp;Salient channels:</source>
        <translation>&amp;Salient channels:</translation>
    </message>
    <message>
        <source>Fraction of each layer&apos;s input channels kept in 16 bits (ME-Switch only)</source>
        <translation>Fraction of each layer&apos;s input channels kept in 16 bits (ME-Switch only)</translation>
    </message>
    <message>
        <source>C&amp;alibration:</source>
        <translation>C&amp;alibration:</translation>
    </message>
    <message>
        <source>Built-in text + the expert&apos;s domain examples</source>
        <translation>Built-in text + the expert&apos;s domain examples</translation>
    </message>
    <message>
        <source>Text file (one sample per line)</source>
        <translation>Text file (one sample per line)</translation>
    </message>
    <message>
        <source>calibration text file</source>
        <translation>calibration text file</translation>
    </message>
    <message>
        <source>Bro&amp;wse…</source>
        <translation>Bro&amp;wse…</translation>
    </message>
    <message>
        <source>Also measure the RTN &amp;baseline at the same bits</source>
        <translation>Also measure the RTN &amp;baseline at the same bits</translation>
    </message>
    <message>
        <source>&amp;Compress</source>
        <translation>&amp;Compress</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>Stop the compression (Esc); nothing is written</source>
        <translation>Stop the compression (Esc); nothing is written</translation>
    </message>
    <message>
        <source>Finished runs of this expert</source>
        <translation>Finished runs of this expert</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>Method</translation>
    </message>
    <message>
        <source>Salient</source>
        <translation>Salient</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Mean output error</source>
        <translation>Mean output error</translation>
    </message>
    <message>
        <source>Charts</source>
        <translation>Charts</translation>
    </message>
    <message>
        <source>Saliency</source>
        <translation>Saliency</translation>
    </message>
    <message>
        <source>Ready.</source>
        <translation>Ready.</translation>
    </message>
    <message>
        <source>The catalog could not be read:
%1</source>
        <translation>The catalog could not be read:
%1</translation>
    </message>
    <message>
        <source>%1-bit %2</source>
        <translation>%1-bit %2</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>finished</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>failed</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>cancelled</translation>
    </message>
    <message>
        <source>running</source>
        <translation>running</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>Starting…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Cancelling…</translation>
    </message>
    <message>
        <source>estimating…</source>
        <translation>estimating…</translation>
    </message>
    <message>
        <source>Elapsed %1 — remaining about %2</source>
        <translation>Elapsed %1 — remaining about %2</translation>
    </message>
    <message>
        <source>Layers done: %1 — %2</source>
        <translation>Layers done: %1 — %2</translation>
    </message>
    <message>
        <source>Done in %1: %2 layers, %3 bits/param, mean output error %4.</source>
        <translation>Done in %1: %2 layers, %3 bits/param, mean output error %4.</translation>
    </message>
    <message>
        <source>The compression was cancelled. No delta file was written and the catalog is unchanged.</source>
        <translation>The compression was cancelled. No delta file was written and the catalog is unchanged.</translation>
    </message>
    <message>
        <source>The compression failed:
%1</source>
        <translation>The compression failed:
%1</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>Cancelled.</translation>
    </message>
    <message>
        <source>Failed.</source>
        <translation>Failed.</translation>
    </message>
    <message>
        <source>The run could not be read from the catalog:
%1</source>
        <translation>The run could not be read from the catalog:
%1</translation>
    </message>
    <message>
        <source>This run did not finish: %1</source>
        <translation>This run did not finish: %1</translation>
    </message>
    <message>
        <source>Mean relative output error over the layers</source>
        <translation>Mean relative output error over the layers</translation>
    </message>
    <message>
        <source>The expert&apos;s layer widths are unknown (no config.json).</source>
        <translation>The expert&apos;s layer widths are unknown (no config.json).</translation>
    </message>
    <message>
        <source>Keeps %1 of %2 input channels per layer (attention, MLP gate and up), %3 of %4 (MLP down).</source>
        <translation>Keeps %1 of %2 input channels per layer (attention, MLP gate and up), %3 of %4 (MLP down).</translation>
    </message>
    <message>
        <source>Keeps %1 of %2 input channels per layer.</source>
        <translation>Keeps %1 of %2 input channels per layer.</translation>
    </message>
    <message>
        <source>Warning: %1 % of %2 inputs keeps no channel; ask for at least %3 % to keep one.</source>
        <translation>Warning: %1 % of %2 inputs keeps no channel; ask for at least %3 % to keep one.</translation>
    </message>
    <message>
        <source>Time: calibration forward %1 s (%2 windows), statistics %3 s, layers %4 s, embeddings and head %5 s, loading %6 s, writing %7 s.</source>
        <translation>Time: calibration forward %1 s (%2 windows), statistics %3 s, layers %4 s, embeddings and head %5 s, loading %6 s, writing %7 s.</translation>
    </message>
</context>
<context>
    <name>EngineHost</name>
    <message>
        <source>Looking for compute devices…</source>
        <translation>Looking for compute devices…</translation>
    </message>
    <message numerus="yes">
        <source>%n GPU(s) found.</source>
        <translation>
            <numerusform>%n GPU found.</numerusform>
            <numerusform>%n GPUs found.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>EngineWorker</name>
    <message>
        <source>Cancelled before it started.</source>
        <translation>Cancelled before it started.</translation>
    </message>
</context>
<context>
    <name>FirstRun</name>
    <message>
        <source>Welcome to ME-Switch Studio</source>
        <translation>Welcome to ME-Switch Studio</translation>
    </message>
    <message>
        <source>Install demo pack</source>
        <translation>Install demo pack</translation>
    </message>
    <message>
        <source>Not now</source>
        <translation>Not now</translation>
    </message>
    <message>
        <source>Your catalog is empty. Install the demo expert pack?

It adds a small base model and three experts fine-tuned from it (arithmetic, Python functions, facts), with their domains and example prompts, compresses the experts and trains the router, so that you can chat with automatically routed experts at once. It takes about a minute and needs no download.</source>
        <translation>Your catalog is empty. Install the demo expert pack?

It adds a small base model and three experts fine-tuned from it (arithmetic, Python functions, facts), with their domains and example prompts, compresses the experts and trains the router, so that you can chat with automatically routed experts at once. It takes about a minute and needs no download.</translation>
    </message>
    <message>
        <source>Installing the demo pack</source>
        <translation>Installing the demo pack</translation>
    </message>
    <message>
        <source>Preparing…</source>
        <translation>Preparing…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Cancelling…</translation>
    </message>
    <message>
        <source>The demo pack could not be installed:

%1</source>
        <translation>The demo pack could not be installed:

%1</translation>
    </message>
</context>
<context>
    <name>Formatting</name>
    <message>
        <source>not compressed</source>
        <translation>not compressed</translation>
    </message>
    <message>
        <source>%1-bit %2, %3 bits/param</source>
        <translation>%1-bit %2, %3 bits/param</translation>
    </message>
    <message>
        <source>%1 (+%2 more)</source>
        <translation>%1 (+%2 more)</translation>
    </message>
</context>
<context>
    <name>ImportWizard</name>
    <message>
        <source>Import a model</source>
        <translation>Import a model</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>Model folder</translation>
    </message>
    <message>
        <source>Choose a Hugging Face model folder: config.json, safetensors weights (one file or shards with model.safetensors.index.json) and tokenizer.json. The folder is used where it is; nothing in it is changed.</source>
        <translation>Choose a Hugging Face model folder: config.json, safetensors weights (one file or shards with model.safetensors.index.json) and tokenizer.json. The folder is used where it is; nothing in it is changed.</translation>
    </message>
    <message>
        <source>&amp;Folder:</source>
        <translation>&amp;Folder:</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>&amp;Browse…</translation>
    </message>
    <message>
        <source>Validation report</source>
        <translation>Validation report</translation>
    </message>
    <message>
        <source>Role and domain</source>
        <translation>Role and domain</translation>
    </message>
    <message>
        <source>B&amp;ase model</source>
        <translation>B&amp;ase model</translation>
    </message>
    <message>
        <source>&amp;Expert of:</source>
        <translation>&amp;Expert of:</translation>
    </message>
    <message>
        <source>&amp;Domain:</source>
        <translation>&amp;Domain:</translation>
    </message>
    <message>
        <source>existing or new domain, e.g. math</source>
        <translation>existing or new domain, e.g. math</translation>
    </message>
    <message>
        <source>Des&amp;cription:</source>
        <translation>Des&amp;cription:</translation>
    </message>
    <message>
        <source>E&amp;xample prompts
(one per line):</source>
        <translation>E&amp;xample prompts
(one per line):</translation>
    </message>
    <message>
        <source>C&amp;opy the folder into the data folder</source>
        <translation>C&amp;opy the folder into the data folder</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>Import</translation>
    </message>
    <message>
        <source>Choose a model folder</source>
        <translation>Choose a model folder</translation>
    </message>
    <message>
        <source>Checking %1…</source>
        <translation>Checking %1…</translation>
    </message>
    <message>
        <source>The folder could not be checked:</source>
        <translation>The folder could not be checked:</translation>
    </message>
    <message>
        <source>—</source>
        <translation>—</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>Architecture</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameters</translation>
    </message>
    <message>
        <source>Dtype</source>
        <translation>Dtype</translation>
    </message>
    <message>
        <source>Tensor data</source>
        <translation>Tensor data</translation>
    </message>
    <message>
        <source>Tensors</source>
        <translation>Tensors</translation>
    </message>
    <message>
        <source>Weight files</source>
        <translation>Weight files</translation>
    </message>
    <message>
        <source>Tokenizer</source>
        <translation>Tokenizer</translation>
    </message>
    <message>
        <source>missing or unreadable</source>
        <translation>missing or unreadable</translation>
    </message>
    <message>
        <source>Chat template</source>
        <translation>Chat template</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>yes</translation>
    </message>
    <message>
        <source>no</source>
        <translation>no</translation>
    </message>
    <message>
        <source>Matches imported base</source>
        <translation>Matches imported base</translation>
    </message>
    <message>
        <source>none (it can be imported as a base)</source>
        <translation>none (it can be imported as a base)</translation>
    </message>
    <message>
        <source>The folder can be imported.</source>
        <translation>The folder can be imported.</translation>
    </message>
    <message>
        <source>The folder cannot be imported:</source>
        <translation>The folder cannot be imported:</translation>
    </message>
    <message>
        <source>Fix the folder, then go back and choose it again.</source>
        <translation>Fix the folder, then go back and choose it again.</translation>
    </message>
    <message>
        <source>This folder does not have the architecture and tensor shapes of “%1”: the import will be refused.</source>
        <translation>This folder does not have the architecture and tensor shapes of “%1”: the import will be refused.</translation>
    </message>
    <message>
        <source>An expert is stored as its difference to the base and can be compressed.</source>
        <translation>An expert is stored as its difference to the base and can be compressed.</translation>
    </message>
    <message>
        <source>A base model holds the weights its experts are fine-tuned from.</source>
        <translation>A base model holds the weights its experts are fine-tuned from.</translation>
    </message>
    <message>
        <source>Importing %1…</source>
        <translation>Importing %1…</translation>
    </message>
    <message>
        <source>Done: “%1” was imported as an expert (%2 parameters). Compress it from the Library or the Compress page.</source>
        <translation>Done: “%1” was imported as an expert (%2 parameters). Compress it from the Library or the Compress page.</translation>
    </message>
    <message>
        <source>Done: “%1” was imported as a base model (%2 parameters).</source>
        <translation>Done: “%1” was imported as a base model (%2 parameters).</translation>
    </message>
    <message>
        <source>The import was cancelled; the catalog is unchanged.</source>
        <translation>The import was cancelled; the catalog is unchanged.</translation>
    </message>
    <message>
        <source>The import failed; the catalog is unchanged. Go back to change the choices.</source>
        <translation>The import failed; the catalog is unchanged. Go back to change the choices.</translation>
    </message>
    <message>
        <source>Na&amp;me:</source>
        <translation>Na&amp;me:</translation>
    </message>
    <message>
        <source>none</source>
        <translation>none</translation>
    </message>
</context>
<context>
    <name>LibraryModel</name>
    <message>
        <source>expert</source>
        <translation>expert</translation>
    </message>
    <message>
        <source>base</source>
        <translation>base</translation>
    </message>
    <message>
        <source>%1 bytes</source>
        <translation>%1 bytes</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Role</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>Architecture</translation>
    </message>
    <message>
        <source>Dtype</source>
        <translation>Dtype</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameters</translation>
    </message>
    <message>
        <source>Size on disk</source>
        <translation>Size on disk</translation>
    </message>
    <message>
        <source>Domains</source>
        <translation>Domains</translation>
    </message>
    <message>
        <source>Compression</source>
        <translation>Compression</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Path</translation>
    </message>
</context>
<context>
    <name>LibraryPage</name>
    <message>
        <source>Library</source>
        <translation>Library</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>Read the catalog again (F5)</source>
        <translation>Read the catalog again (F5)</translation>
    </message>
    <message>
        <source>Remove…</source>
        <translation>Remove…</translation>
    </message>
    <message>
        <source>Remove the selected model from the catalog (its files stay on disk)</source>
        <translation>Remove the selected model from the catalog (its files stay on disk)</translation>
    </message>
    <message>
        <source>Open containing folder</source>
        <translation>Open containing folder</translation>
    </message>
    <message>
        <source>Show the selected model&apos;s folder in the file manager</source>
        <translation>Show the selected model&apos;s folder in the file manager</translation>
    </message>
    <message>
        <source>Models: %1 (bases: %2, experts: %3) — catalog: %4</source>
        <translation>Models: %1 (bases: %2, experts: %3) — catalog: %4</translation>
    </message>
    <message>
        <source>The catalog could not be read:

%1</source>
        <translation>The catalog could not be read:

%1</translation>
    </message>
    <message>
        <source>Select a model to see its details.</source>
        <translation>Select a model to see its details.</translation>
    </message>
    <message>
        <source>expert</source>
        <translation>expert</translation>
    </message>
    <message>
        <source>base</source>
        <translation>base</translation>
    </message>
    <message>
        <source>expert of %1</source>
        <translation>expert of %1</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Role</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>Architecture</translation>
    </message>
    <message>
        <source>Dtype</source>
        <translation>Dtype</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameters</translation>
    </message>
    <message>
        <source>Size on disk</source>
        <translation>Size on disk</translation>
    </message>
    <message>
        <source>%1 bytes</source>
        <translation>%1 bytes</translation>
    </message>
    <message>
        <source>Content hash</source>
        <translation>Content hash</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Path</translation>
    </message>
    <message>
        <source>Added</source>
        <translation>Added</translation>
    </message>
    <message>
        <source>Experts</source>
        <translation>Experts</translation>
    </message>
    <message>
        <source>Domains</source>
        <translation>Domains</translation>
    </message>
    <message>
        <source>none</source>
        <translation>none</translation>
    </message>
    <message>
        <source>Example prompts:</source>
        <translation>Example prompts:</translation>
    </message>
    <message>
        <source>Compressed deltas</source>
        <translation>Compressed deltas</translation>
    </message>
    <message>
        <source>%1-bit %2, %3 bits/param, %4 salient channels, %5 — %6 (created %7)</source>
        <translation>%1-bit %2, %3 bits/param, %4 salient channels, %5 — %6 (created %7)</translation>
    </message>
    <message>
        <source>Remove “%1” from the catalog?

The files on disk are NOT deleted:
%2

Its domain links, compressed-delta records and compression runs are removed from the catalog; delta files stay on disk too.</source>
        <translation>Remove “%1” from the catalog?

The files on disk are NOT deleted:
%2

Its domain links, compressed-delta records and compression runs are removed from the catalog; delta files stay on disk too.</translation>
    </message>
    <message>
        <source>Remove model</source>
        <translation>Remove model</translation>
    </message>
    <message>
        <source>Remove from catalog</source>
        <translation>Remove from catalog</translation>
    </message>
    <message>
        <source>“%1” was not removed:

%2</source>
        <translation>“%1” was not removed:

%2</translation>
    </message>
    <message>
        <source>The folder %1 does not exist any more (moved or deleted?).</source>
        <translation>The folder %1 does not exist any more (moved or deleted?).</translation>
    </message>
    <message>
        <source>No file manager could open %1.</source>
        <translation>No file manager could open %1.</translation>
    </message>
    <message>
        <source>Import…</source>
        <translation>Import…</translation>
    </message>
    <message>
        <source>Import a Hugging Face model folder as a base or an expert (Ctrl+I); you can also drop a folder on this page</source>
        <translation>Import a Hugging Face model folder as a base or an expert (Ctrl+I); you can also drop a folder on this page</translation>
    </message>
    <message>
        <source>Compress…</source>
        <translation>Compress…</translation>
    </message>
    <message>
        <source>Compress the selected expert&apos;s delta (Ctrl+Shift+C)</source>
        <translation>Compress the selected expert&apos;s delta (Ctrl+Shift+C)</translation>
    </message>
    <message>
        <source>No models yet.

Import one with Import… (Ctrl+I), by dropping a model folder here, or with:
    meswitch import PATH</source>
        <translation>No models yet.

Import one with Import… (Ctrl+I), by dropping a model folder here, or with:
    meswitch import PATH</translation>
    </message>
</context>
<context>
    <name>LogViewerDialog</name>
    <message>
        <source>Log</source>
        <translation>Log</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>Open folder</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>Log file: %1</source>
        <translation>Log file: %1</translation>
    </message>
    <message>
        <source>The log file %1 does not exist yet.</source>
        <translation>The log file %1 does not exist yet.</translation>
    </message>
    <message>
        <source>The log file %1 cannot be read: %2</source>
        <translation>The log file %1 cannot be read: %2</translation>
    </message>
    <message>
        <source>[… earlier lines omitted; showing the last %1 KiB]
</source>
        <translation>[… earlier lines omitted; showing the last %1 KiB]
</translation>
    </message>
    <message>
        <source>No file manager could open %1.</source>
        <translation>No file manager could open %1.</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>&amp;File</source>
        <translation>&amp;File</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quit</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;View</translation>
    </message>
    <message>
        <source>Show &amp;log</source>
        <translation>Show &amp;log</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Help</translation>
    </message>
    <message>
        <source>&amp;About ME-Switch Studio</source>
        <translation>&amp;About ME-Switch Studio</translation>
    </message>
    <message>
        <source>Device: scanning…</source>
        <translation>Device: scanning…</translation>
    </message>
    <message>
        <source>Device: CPU (no GPU found)</source>
        <translation>Device: CPU (no GPU found)</translation>
    </message>
    <message>
        <source>Device: %1 (%2, %3 free)</source>
        <translation>Device: %1 (%2, %3 free)</translation>
    </message>
    <message>
        <source>&amp;New chat</source>
        <translation>&amp;New chat</translation>
    </message>
    <message>
        <source>Device: CPU (chosen in Settings)</source>
        <translation>Device: CPU (chosen in Settings)</translation>
    </message>
    <message>
        <source>Device: CPU (%1 not found)</source>
        <translation>Device: CPU (%1 not found)</translation>
    </message>
    <message>
        <source>Memory: %1 free of %2</source>
        <translation>Memory: %1 free of %2</translation>
    </message>
    <message>
        <source>Memory: %1</source>
        <translation>Memory: %1</translation>
    </message>
    <message>
        <source>Install &amp;demo pack…</source>
        <translation>Install &amp;demo pack…</translation>
    </message>
    <message>
        <source>Add the bundled demo base model and its three experts to the catalog (compressed, with the router trained)</source>
        <translation>Add the bundled demo base model and its three experts to the catalog (compressed, with the router trained)</translation>
    </message>
    <message>
        <source>Install demo pack</source>
        <translation>Install demo pack</translation>
    </message>
    <message>
        <source>No demo pack was found. It is installed with the application under share/meswitch-studio/demo; MESWITCH_DEMO_DIR can point to another folder that holds a pack.json.</source>
        <translation>No demo pack was found. It is installed with the application under share/meswitch-studio/demo; MESWITCH_DEMO_DIR can point to another folder that holds a pack.json.</translation>
    </message>
</context>
<context>
    <name>MessageBoxes</name>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
</context>
<context>
    <name>MoePage</name>
    <message>
        <source>MoE families</source>
        <translation>MoE families</translation>
    </message>
    <message>
        <source>Consolidation plan:</source>
        <translation>Consolidation plan:</translation>
    </message>
    <message>
        <source>Colour by:</source>
        <translation>Colour by:</translation>
    </message>
    <message>
        <source>shared / own</source>
        <translation>shared / own</translation>
    </message>
    <message>
        <source>distance</source>
        <translation>distance</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>Cannot read the plans: %1</source>
        <translation>Cannot read the plans: %1</translation>
    </message>
    <message>
        <source> (#%1, %2 of %3 shared)</source>
        <translation> (#%1, %2 of %3 shared)</translation>
    </message>
    <message>
        <source>Variants: %1. %2 of %3 positions shared by all variants; expert memory %4 instead of %5 (saves %6). Metric %7, shared block = %8.</source>
        <translation>Variants: %1. %2 of %3 positions shared by all variants; expert memory %4 instead of %5 (saves %6). Metric %7, shared block = %8.</translation>
    </message>
    <message>
        <source>layer %1</source>
        <translation>layer %1</translation>
    </message>
    <message>
        <source>expert %1</source>
        <translation>expert %1</translation>
    </message>
    <message>
        <source>shared</source>
        <translation>shared</translation>
    </message>
    <message>
        <source>own</source>
        <translation>own</translation>
    </message>
    <message>
        <source>layer %1, expert %2: mean distance between variants %3, to the base %4</source>
        <translation>layer %1, expert %2: mean distance between variants %3, to the base %4</translation>
    </message>
    <message>
        <source>Making the plan: %1</source>
        <translation>Making the plan: %1</translation>
    </message>
    <message>
        <source>Plan saved.</source>
        <translation>Plan saved.</translation>
    </message>
    <message>
        <source>Cancelled: no plan was saved.</source>
        <translation>Cancelled: no plan was saved.</translation>
    </message>
    <message>
        <source>The plan could not be made: %1</source>
        <translation>The plan could not be made: %1</translation>
    </message>
    <message>
        <source>Making the plan…</source>
        <translation>Making the plan…</translation>
    </message>
    <message>
        <source>Delete plan</source>
        <translation>Delete plan</translation>
    </message>
    <message>
        <source>Delete the consolidation plan &quot;%1&quot;? The models are not touched.</source>
        <translation>Delete the consolidation plan &quot;%1&quot;? The models are not touched.</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>Cannot delete the plan: %1</source>
        <translation>Cannot delete the plan: %1</translation>
    </message>
    <message>
        <source>Plan deleted.</source>
        <translation>Plan deleted.</translation>
    </message>
    <message>
        <source>&amp;New plan…</source>
        <translation>&amp;New plan…</translation>
    </message>
    <message>
        <source>Measure the distances between the variants&apos; experts and share the most similar positions (as meswitch moe plan does)</source>
        <translation>Measure the distances between the variants&apos; experts and share the most similar positions (as meswitch moe plan does)</translation>
    </message>
    <message>
        <source>&amp;Delete plan</source>
        <translation>&amp;Delete plan</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>No consolidation plan yet. Make one with New plan…, or on the command line: meswitch moe plan --base BASE --variant A --variant B …</source>
        <translation>No consolidation plan yet. Make one with New plan…, or on the command line: meswitch moe plan --base BASE --variant A --variant B …</translation>
    </message>
</context>
<context>
    <name>MoePlanDialog</name>
    <message>
        <source>Base model folder</source>
        <translation>Base model folder</translation>
    </message>
    <message>
        <source>Variant folder</source>
        <translation>Variant folder</translation>
    </message>
    <message>
        <source>Choose the base model (a catalog model or a folder).</source>
        <translation>Choose the base model (a catalog model or a folder).</translation>
    </message>
    <message>
        <source>Tick at least two variants.</source>
        <translation>Tick at least two variants.</translation>
    </message>
    <message>
        <source>The base cannot also be a variant.</source>
        <translation>The base cannot also be a variant.</translation>
    </message>
    <message>
        <source>New consolidation plan</source>
        <translation>New consolidation plan</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>optional</translation>
    </message>
    <message>
        <source>&amp;Base:</source>
        <translation>&amp;Base:</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>&amp;Variants:</source>
        <translation>&amp;Variants:</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>Add folder…</translation>
    </message>
    <message>
        <source>&amp;Distance:</source>
        <translation>&amp;Distance:</translation>
    </message>
    <message>
        <source>L2</source>
        <translation>L2</translation>
    </message>
    <message>
        <source>cosine</source>
        <translation>cosine</translation>
    </message>
    <message>
        <source>&amp;Shared block:</source>
        <translation>&amp;Shared block:</translation>
    </message>
    <message>
        <source>mean of the variants</source>
        <translation>mean of the variants</translation>
    </message>
    <message>
        <source>medoid variant</source>
        <translation>medoid variant</translation>
    </message>
    <message>
        <source>the base&apos;s</source>
        <translation>the base&apos;s</translation>
    </message>
    <message>
        <source>Share this many positions:</source>
        <translation>Share this many positions:</translation>
    </message>
    <message>
        <source>Or fit the expert blocks in (MiB):</source>
        <translation>Or fit the expert blocks in (MiB):</translation>
    </message>
    <message>
        <source>&amp;Make plan</source>
        <translation>&amp;Make plan</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
</context>
<context>
    <name>SaliencyView</name>
    <message>
        <source>&amp;Layer:</source>
        <translation>&amp;Layer:</translation>
    </message>
    <message>
        <source>&amp;Map:</source>
        <translation>&amp;Map:</translation>
    </message>
    <message>
        <source>|Δ| (delta magnitude)</source>
        <translation>|Δ| (delta magnitude)</translation>
    </message>
    <message>
        <source>Quantization error |Δ − Δ̂|</source>
        <translation>Quantization error |Δ − Δ̂|</translation>
    </message>
    <message>
        <source>Zoom &amp;in</source>
        <translation>Zoom &amp;in</translation>
    </message>
    <message>
        <source>Zoom &amp;out</source>
        <translation>Zoom &amp;out</translation>
    </message>
    <message>
        <source>Zoom out of the heat map (mouse wheel or −)</source>
        <translation>Zoom out of the heat map (mouse wheel or −)</translation>
    </message>
    <message>
        <source>&amp;Fit</source>
        <translation>&amp;Fit</translation>
    </message>
    <message>
        <source>Show the whole layer again (0)</source>
        <translation>Show the whole layer again (0)</translation>
    </message>
    <message>
        <source>Δ per input channel: min and max over output rows</source>
        <translation>Δ per input channel: min and max over output rows</translation>
    </message>
    <message>
        <source>max Δ</source>
        <translation>max Δ</translation>
    </message>
    <message>
        <source>min Δ</source>
        <translation>min Δ</translation>
    </message>
    <message>
        <source>salient (kept in 16 bits)</source>
        <translation>salient (kept in 16 bits)</translation>
    </message>
    <message>
        <source>Input channel</source>
        <translation>Input channel</translation>
    </message>
    <message>
        <source>Δ</source>
        <translation>Δ</translation>
    </message>
    <message>
        <source>Drag horizontally to zoom into channels; Fit resets</source>
        <translation>Drag horizontally to zoom into channels; Fit resets</translation>
    </message>
    <message>
        <source>Reading %1 from the models and the artifact…</source>
        <translation>Reading %1 from the models and the artifact…</translation>
    </message>
    <message>
        <source>This layer could not be inspected:
%1</source>
        <translation>This layer could not be inspected:
%1</translation>
    </message>
    <message>
        <source>%1: %2 × %3 (outputs × input channels)</source>
        <translation>%1: %2 × %3 (outputs × input channels)</translation>
    </message>
    <message>
        <source>%1 salient input channels kept in 16 bits (%2 %3-bit); relative weight error ‖Δ − Δ̂‖/‖Δ‖ = %4</source>
        <translation>%1 salient input channels kept in 16 bits (%2 %3-bit); relative weight error ‖Δ − Δ̂‖/‖Δ‖ = %4</translation>
    </message>
    <message>
        <source>The artifact does not store this layer.</source>
        <translation>The artifact does not store this layer.</translation>
    </message>
    <message>
        <source>No quantization error to show: the artifact does not store this layer.</source>
        <translation>No quantization error to show: the artifact does not store this layer.</translation>
    </message>
    <message>
        <source>Rows: output channels %1–%2; columns: input channels %3–%4; each cell shows the largest value of its block. Black 0 → yellow %5.</source>
        <translation>Rows: output channels %1–%2; columns: input channels %3–%4; each cell shows the largest value of its block. Black 0 → yellow %5.</translation>
    </message>
    <message>
        <source>Zoom into the heat map (mouse wheel or +); from 2× on, the visible part is read again in finer detail</source>
        <translation>Zoom into the heat map (mouse wheel or +); from 2× on, the visible part is read again in finer detail</translation>
    </message>
    <message>
        <source>The detail could not be read:
%1</source>
        <translation>The detail could not be read:
%1</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <source>Settings</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation>Data folder</translation>
    </message>
    <message>
        <source>In use:</source>
        <translation>In use:</translation>
    </message>
    <message>
        <source>The data folder holds the catalog, the logs and the compressed deltas. A change takes effect when ME-Switch Studio is restarted; the --home option and the MESWITCH_HOME environment variable take precedence over this setting.</source>
        <translation>The data folder holds the catalog, the logs and the compressed deltas. A change takes effect when ME-Switch Studio is restarted; the --home option and the MESWITCH_HOME environment variable take precedence over this setting.</translation>
    </message>
    <message>
        <source>Change…</source>
        <translation>Change…</translation>
    </message>
    <message>
        <source>Use default</source>
        <translation>Use default</translation>
    </message>
    <message>
        <source>Logging</source>
        <translation>Logging</translation>
    </message>
    <message>
        <source>Log level:</source>
        <translation>Log level:</translation>
    </message>
    <message>
        <source>Trace (everything)</source>
        <translation>Trace (everything)</translation>
    </message>
    <message>
        <source>Debug</source>
        <translation>Debug</translation>
    </message>
    <message>
        <source>Info</source>
        <translation>Info</translation>
    </message>
    <message>
        <source>Warnings</source>
        <translation>Warnings</translation>
    </message>
    <message>
        <source>Errors</source>
        <translation>Errors</translation>
    </message>
    <message>
        <source>Critical only</source>
        <translation>Critical only</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Off</translation>
    </message>
    <message>
        <source>Log file:</source>
        <translation>Log file:</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>Interface language:</source>
        <translation>Interface language:</translation>
    </message>
    <message>
        <source>System</source>
        <translation>System</translation>
    </message>
    <message>
        <source>Applies immediately.</source>
        <translation>Applies immediately.</translation>
    </message>
    <message>
        <source>After a restart: the default folder (%1)</source>
        <translation>After a restart: the default folder (%1)</translation>
    </message>
    <message>
        <source>After a restart: %1</source>
        <translation>After a restart: %1</translation>
    </message>
    <message>
        <source>Choose the data folder</source>
        <translation>Choose the data folder</translation>
    </message>
    <message>
        <source>This folder cannot be used:

%1</source>
        <translation>This folder cannot be used:

%1</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Automatic</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>GPU %1: %2</source>
        <translation>GPU %1: %2</translation>
    </message>
    <message>
        <source>%1 (not found)</source>
        <translation>%1 (not found)</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Device</translation>
    </message>
    <message>
        <source>Compute device:</source>
        <translation>Compute device:</translation>
    </message>
    <message>
        <source>Memory for resident experts:</source>
        <translation>Memory for resident experts:</translation>
    </message>
    <message>
        <source> MiB</source>
        <translation> MiB</translation>
    </message>
    <message>
        <source>Automatic uses the first GPU when this build and machine have one, else the CPU. Compressed experts are kept resident up to the memory budget.</source>
        <translation>Automatic uses the first GPU when this build and machine have one, else the CPU. Compressed experts are kept resident up to the memory budget.</translation>
    </message>
    <message>
        <source>Compression defaults</source>
        <translation>Compression defaults</translation>
    </message>
    <message>
        <source>Method:</source>
        <translation>Method:</translation>
    </message>
    <message>
        <source>ME-Switch (salient channels + low-bit)</source>
        <translation>ME-Switch (salient channels + low-bit)</translation>
    </message>
    <message>
        <source>RTN (round to nearest)</source>
        <translation>RTN (round to nearest)</translation>
    </message>
    <message>
        <source>BitDelta (1-bit sign + scale)</source>
        <translation>BitDelta (1-bit sign + scale)</translation>
    </message>
    <message>
        <source>Bits:</source>
        <translation>Bits:</translation>
    </message>
    <message>
        <source>Salient input channels:</source>
        <translation>Salient input channels:</translation>
    </message>
    <message>
        <source>Routing</source>
        <translation>Routing</translation>
    </message>
    <message>
        <source>Routing threshold:</source>
        <translation>Routing threshold:</translation>
    </message>
    <message>
        <source>When the router&apos;s confidence is below the threshold, the base model answers and the chat says so.</source>
        <translation>When the router&apos;s confidence is below the threshold, the base model answers and the chat says so.</translation>
    </message>
    <message numerus="yes">
        <source>About %n Mistral-7B-sized 2-bit expert(s) (%1 each) fit in this budget.</source>
        <translation>
            <numerusform>About %n Mistral-7B-sized 2-bit expert (%1) fits in this budget.</numerusform>
            <numerusform>About %n Mistral-7B-sized 2-bit experts (%1 each) fit in this budget.</numerusform>
        </translation>
    </message>
    <message>
        <source>Chosen with --home for this run; it takes precedence over this setting.</source>
        <translation>Chosen with --home for this run; it takes precedence over this setting.</translation>
    </message>
    <message>
        <source>Chosen with the MESWITCH_HOME environment variable; it takes precedence over this setting.</source>
        <translation>Chosen with the MESWITCH_HOME environment variable; it takes precedence over this setting.</translation>
    </message>
    <message>
        <source>Without it: %1</source>
        <translation>Without it: %1</translation>
    </message>
</context>
<context>
    <name>StudioApp</name>
    <message>
        <source>ME-Switch Studio: keep one base model and many compressed experts on one GPU.</source>
        <translation>ME-Switch Studio: keep one base model and many compressed experts on one GPU.</translation>
    </message>
    <message>
        <source>Use DIR as the data folder (catalog, logs, deltas) instead of $MESWITCH_HOME or the folder chosen in Settings.</source>
        <translation>Use DIR as the data folder (catalog, logs, deltas) instead of $MESWITCH_HOME or the folder chosen in Settings.</translation>
    </message>
    <message>
        <source>DIR</source>
        <translation>DIR</translation>
    </message>
    <message>
        <source>Log level for this run: trace, debug, info, warn, error, critical or off. debug and trace also print to stderr.</source>
        <translation>Log level for this run: trace, debug, info, warn, error, critical or off. debug and trace also print to stderr.</translation>
    </message>
    <message>
        <source>LEVEL</source>
        <translation>LEVEL</translation>
    </message>
    <message>
        <source>meswitch-studio: --home needs a folder
</source>
        <translation>meswitch-studio: --home needs a folder
</translation>
    </message>
    <message>
        <source>meswitch-studio: unknown log level &apos;%1&apos; (use trace, debug, info, warn, error, critical or off)
</source>
        <translation>meswitch-studio: unknown log level &apos;%1&apos; (use trace, debug, info, warn, error, critical or off)
</translation>
    </message>
    <message>
        <source>ME-Switch Studio</source>
        <translation>ME-Switch Studio</translation>
    </message>
    <message>
        <source>The data folder cannot be used:

%1

Choose another one with --home DIR or MESWITCH_HOME.</source>
        <translation>The data folder cannot be used:

%1

Choose another one with --home DIR or MESWITCH_HOME.</translation>
    </message>
</context>
</TS>

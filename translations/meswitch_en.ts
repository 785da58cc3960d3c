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
        <source>No models yet.

Import one with:
    meswitch import PATH

then press F5.</source>
        <translation>No models yet.

Import one with:
    meswitch import PATH

then press F5.</translation>
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

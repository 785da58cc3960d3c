<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AboutDialog</name>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Qt</source>
        <translation>Qt</translation>
    </message>
    <message>
        <source>%1 (built with %2)</source>
        <translation>%1（编译时版本 %2）</translation>
    </message>
    <message>
        <source>Build</source>
        <translation>构建</translation>
    </message>
    <message>
        <source>%1, %2</source>
        <translation>%1，%2</translation>
    </message>
    <message>
        <source>compiled in (toolkit %1)</source>
        <translation>已编译进此版本（工具包 %1）</translation>
    </message>
    <message>
        <source>architectures %1</source>
        <translation>架构 %1</translation>
    </message>
    <message>
        <source>CUDA</source>
        <translation>CUDA</translation>
    </message>
    <message>
        <source>not compiled in</source>
        <translation>未编译进此版本</translation>
    </message>
    <message>
        <source>GPUs</source>
        <translation>GPU</translation>
    </message>
    <message>
        <source>still scanning…</source>
        <translation>仍在扫描…</translation>
    </message>
    <message>
        <source>not available</source>
        <translation>不可用</translation>
    </message>
    <message>
        <source>CUDA runtime</source>
        <translation>CUDA 运行时</translation>
    </message>
    <message>
        <source>CUDA driver</source>
        <translation>CUDA 驱动</translation>
    </message>
    <message>
        <source>no GPU found</source>
        <translation>未找到 GPU</translation>
    </message>
    <message>
        <source>GPU %1</source>
        <translation>GPU %1</translation>
    </message>
    <message>
        <source>%1, %2 (%3 free), compute capability %4.%5</source>
        <translation>%1，%2（可用 %3），计算能力 %4.%5</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>About ME-Switch Studio</source>
        <translation>关于 ME-Switch Studio</translation>
    </message>
    <message>
        <source>One base model, many compressed experts, one GPU.</source>
        <translation>一个基础模型，众多压缩专家，一块 GPU。</translation>
    </message>
    <message>
        <source>Copy to clipboard</source>
        <translation>复制到剪贴板</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>CatalogOpener</name>
    <message>
        <source>%1 (catalog file: %2)</source>
        <translation>%1（模型目录文件：%2）</translation>
    </message>
    <message>
        <source>The catalog could not be moved aside, so ME-Switch Studio has to quit.

%1</source>
        <translation>无法将模型目录移到一旁，ME-Switch Studio 必须退出。

%1</translation>
    </message>
    <message>
        <source>The old catalog was moved to:
%1

but a new catalog could not be created either, so ME-Switch Studio has to quit.

%2</source>
        <translation>旧的模型目录已移至：
%1

但新的模型目录也无法创建，ME-Switch Studio 必须退出。

%2</translation>
    </message>
    <message>
        <source>The old catalog was kept and moved to:
%1

A new, empty catalog was created at:
%2</source>
        <translation>旧的模型目录已保留并移至：
%1

已在以下位置创建新的空模型目录：
%2</translation>
    </message>
    <message>
        <source>Catalog cannot be opened</source>
        <translation>无法打开模型目录</translation>
    </message>
    <message>
        <source>ME-Switch Studio cannot open its catalog.</source>
        <translation>ME-Switch Studio 无法打开模型目录。</translation>
    </message>
    <message>
        <source>%1

You can move the file aside (it is kept, renamed, for recovery) and start with a fresh, empty catalog, or quit and investigate.</source>
        <translation>%1

您可以将该文件移到一旁（文件会以新名称保留，便于恢复），然后从一个新的空模型目录开始；也可以退出并自行排查。</translation>
    </message>
    <message>
        <source>Move aside and start fresh</source>
        <translation>移到一旁并重新开始</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>ME-Switch Studio catalog</source>
        <translation>ME-Switch Studio 模型目录</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <source>ME-Switch Studio cannot open its catalog and has to quit.

%1

To start with another data folder, run: meswitch-studio --home DIR</source>
        <translation>ME-Switch Studio 无法打开模型目录，必须退出。

%1

如需改用其他数据文件夹启动，请运行：meswitch-studio --home DIR</translation>
    </message>
</context>
<context>
    <name>Formatting</name>
    <message>
        <source>not compressed</source>
        <translation>未压缩</translation>
    </message>
    <message>
        <source>%1-bit %2, %3 bits/param</source>
        <translation>%1 位 %2，每参数 %3 位</translation>
    </message>
    <message>
        <source>%1 (+%2 more)</source>
        <translation>%1（另有 %2 个）</translation>
    </message>
</context>
<context>
    <name>LibraryModel</name>
    <message>
        <source>expert</source>
        <translation>专家</translation>
    </message>
    <message>
        <source>base</source>
        <translation>基础模型</translation>
    </message>
    <message>
        <source>%1 bytes</source>
        <translation>%1 字节</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <source>Dtype</source>
        <translation>数据类型</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>Size on disk</source>
        <translation>磁盘占用</translation>
    </message>
    <message>
        <source>Domains</source>
        <translation>领域</translation>
    </message>
    <message>
        <source>Compression</source>
        <translation>压缩</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>路径</translation>
    </message>
</context>
<context>
    <name>LibraryPage</name>
    <message>
        <source>Library</source>
        <translation>模型库</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Read the catalog again (F5)</source>
        <translation>重新读取模型目录（F5）</translation>
    </message>
    <message>
        <source>Remove…</source>
        <translation>移除…</translation>
    </message>
    <message>
        <source>Remove the selected model from the catalog (its files stay on disk)</source>
        <translation>从模型目录中移除所选模型（其文件仍保留在磁盘上）</translation>
    </message>
    <message>
        <source>Open containing folder</source>
        <translation>打开所在文件夹</translation>
    </message>
    <message>
        <source>Show the selected model&apos;s folder in the file manager</source>
        <translation>在文件管理器中显示所选模型的文件夹</translation>
    </message>
    <message>
        <source>No models yet.

Import one with:
    meswitch import PATH

then press F5.</source>
        <translation>还没有模型。

请用以下命令导入：
    meswitch import PATH

然后按 F5 刷新。</translation>
    </message>
    <message>
        <source>Models: %1 (bases: %2, experts: %3) — catalog: %4</source>
        <translation>模型：%1 个（基础模型 %2 个，专家 %3 个）— 模型目录：%4</translation>
    </message>
    <message>
        <source>The catalog could not be read:

%1</source>
        <translation>无法读取模型目录：

%1</translation>
    </message>
    <message>
        <source>Select a model to see its details.</source>
        <translation>选择一个模型以查看详细信息。</translation>
    </message>
    <message>
        <source>expert</source>
        <translation>专家</translation>
    </message>
    <message>
        <source>base</source>
        <translation>基础模型</translation>
    </message>
    <message>
        <source>expert of %1</source>
        <translation>%1 的专家</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <source>Dtype</source>
        <translation>数据类型</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>Size on disk</source>
        <translation>磁盘占用</translation>
    </message>
    <message>
        <source>%1 bytes</source>
        <translation>%1 字节</translation>
    </message>
    <message>
        <source>Content hash</source>
        <translation>内容哈希</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>路径</translation>
    </message>
    <message>
        <source>Added</source>
        <translation>添加时间</translation>
    </message>
    <message>
        <source>Experts</source>
        <translation>专家数</translation>
    </message>
    <message>
        <source>Domains</source>
        <translation>领域</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Example prompts:</source>
        <translation>示例提示词：</translation>
    </message>
    <message>
        <source>Compressed deltas</source>
        <translation>压缩增量</translation>
    </message>
    <message>
        <source>%1-bit %2, %3 bits/param, %4 salient channels, %5 — %6 (created %7)</source>
        <translation>%1 位 %2，每参数 %3 位，%4 个显著通道，%5 — %6（创建于 %7）</translation>
    </message>
    <message>
        <source>Remove “%1” from the catalog?

The files on disk are NOT deleted:
%2

Its domain links, compressed-delta records and compression runs are removed from the catalog; delta files stay on disk too.</source>
        <translation>要从模型目录中移除“%1”吗？

磁盘上的文件不会被删除：
%2

它的领域关联、压缩增量记录和压缩运行记录会从模型目录中移除；增量文件同样保留在磁盘上。</translation>
    </message>
    <message>
        <source>Remove model</source>
        <translation>移除模型</translation>
    </message>
    <message>
        <source>Remove from catalog</source>
        <translation>从模型目录移除</translation>
    </message>
    <message>
        <source>“%1” was not removed:

%2</source>
        <translation>未能移除“%1”：

%2</translation>
    </message>
    <message>
        <source>The folder %1 does not exist any more (moved or deleted?).</source>
        <translation>文件夹 %1 已不存在（是否已被移动或删除？）。</translation>
    </message>
    <message>
        <source>No file manager could open %1.</source>
        <translation>没有可以打开 %1 的文件管理器。</translation>
    </message>
</context>
<context>
    <name>LogViewerDialog</name>
    <message>
        <source>Log</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Log file: %1</source>
        <translation>日志文件：%1</translation>
    </message>
    <message>
        <source>The log file %1 does not exist yet.</source>
        <translation>日志文件 %1 尚不存在。</translation>
    </message>
    <message>
        <source>The log file %1 cannot be read: %2</source>
        <translation>无法读取日志文件 %1：%2</translation>
    </message>
    <message>
        <source>[… earlier lines omitted; showing the last %1 KiB]
</source>
        <translation>[… 已省略较早的内容，仅显示最后 %1 KiB]
</translation>
    </message>
    <message>
        <source>No file manager could open %1.</source>
        <translation>没有可以打开 %1 的文件管理器。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Show &amp;log</source>
        <translation>显示日志(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About ME-Switch Studio</source>
        <translation>关于 ME-Switch Studio(&amp;A)</translation>
    </message>
    <message>
        <source>Device: scanning…</source>
        <translation>设备：正在扫描…</translation>
    </message>
    <message>
        <source>Device: CPU (no GPU found)</source>
        <translation>设备：CPU（未找到 GPU）</translation>
    </message>
    <message>
        <source>Device: %1 (%2, %3 free)</source>
        <translation>设备：%1（%2，可用 %3）</translation>
    </message>
</context>
<context>
    <name>MessageBoxes</name>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation>数据文件夹</translation>
    </message>
    <message>
        <source>In use:</source>
        <translation>当前使用：</translation>
    </message>
    <message>
        <source>The data folder holds the catalog, the logs and the compressed deltas. A change takes effect when ME-Switch Studio is restarted; the --home option and the MESWITCH_HOME environment variable take precedence over this setting.</source>
        <translation>数据文件夹存放模型目录、日志和压缩增量。更改在重新启动 ME-Switch Studio 后生效；--home 选项和 MESWITCH_HOME 环境变量优先于此设置。</translation>
    </message>
    <message>
        <source>Change…</source>
        <translation>更改…</translation>
    </message>
    <message>
        <source>Use default</source>
        <translation>使用默认文件夹</translation>
    </message>
    <message>
        <source>Logging</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>Log level:</source>
        <translation>日志级别：</translation>
    </message>
    <message>
        <source>Trace (everything)</source>
        <translation>跟踪（全部记录）</translation>
    </message>
    <message>
        <source>Debug</source>
        <translation>调试</translation>
    </message>
    <message>
        <source>Info</source>
        <translation>信息</translation>
    </message>
    <message>
        <source>Warnings</source>
        <translation>警告</translation>
    </message>
    <message>
        <source>Errors</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Critical only</source>
        <translation>仅严重错误</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Log file:</source>
        <translation>日志文件：</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Interface language:</source>
        <translation>界面语言：</translation>
    </message>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Applies immediately.</source>
        <translation>立即生效。</translation>
    </message>
    <message>
        <source>After a restart: the default folder (%1)</source>
        <translation>重新启动后：默认文件夹（%1）</translation>
    </message>
    <message>
        <source>After a restart: %1</source>
        <translation>重新启动后：%1</translation>
    </message>
    <message>
        <source>Choose the data folder</source>
        <translation>选择数据文件夹</translation>
    </message>
    <message>
        <source>This folder cannot be used:

%1</source>
        <translation>无法使用此文件夹：

%1</translation>
    </message>
</context>
<context>
    <name>StudioApp</name>
    <message>
        <source>ME-Switch Studio: keep one base model and many compressed experts on one GPU.</source>
        <translation>ME-Switch Studio：在一块 GPU 上同时容纳一个基础模型和众多压缩专家。</translation>
    </message>
    <message>
        <source>Use DIR as the data folder (catalog, logs, deltas) instead of $MESWITCH_HOME or the folder chosen in Settings.</source>
        <translation>使用 DIR 作为数据文件夹（模型目录、日志、增量），取代 $MESWITCH_HOME 或在“设置”中选择的文件夹。</translation>
    </message>
    <message>
        <source>DIR</source>
        <translation>DIR</translation>
    </message>
    <message>
        <source>Log level for this run: trace, debug, info, warn, error, critical or off. debug and trace also print to stderr.</source>
        <translation>本次运行的日志级别：trace、debug、info、warn、error、critical 或 off。debug 和 trace 还会输出到标准错误。</translation>
    </message>
    <message>
        <source>LEVEL</source>
        <translation>LEVEL</translation>
    </message>
    <message>
        <source>meswitch-studio: --home needs a folder
</source>
        <translation>meswitch-studio：--home 需要指定一个文件夹
</translation>
    </message>
    <message>
        <source>meswitch-studio: unknown log level &apos;%1&apos; (use trace, debug, info, warn, error, critical or off)
</source>
        <translation>meswitch-studio：未知的日志级别“%1”（可用 trace、debug、info、warn、error、critical 或 off）
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
        <translation>无法使用数据文件夹：

%1

请用 --home DIR 或 MESWITCH_HOME 指定其他文件夹。</translation>
    </message>
</context>
</TS>

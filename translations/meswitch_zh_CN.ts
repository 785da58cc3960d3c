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
    <name>ApiServerController</name>
    <message>
        <source>The chat engine is not available.</source>
        <translation>对话引擎不可用。</translation>
    </message>
    <message>
        <source>The engine could not be started: %1</source>
        <translation>无法启动引擎：%1</translation>
    </message>
</context>
<context>
    <name>ApiServerGroup</name>
    <message>
        <source>Available in the ME-Switch Studio window.</source>
        <translation>可在 ME-Switch Studio 主窗口中使用。</translation>
    </message>
    <message>
        <source>Off: nothing listens.</source>
        <translation>已关闭：没有监听任何端口。</translation>
    </message>
    <message>
        <source>Not listening: %1</source>
        <translation>未在监听：%1</translation>
    </message>
    <message>
        <source>Paused while the engine is replaced…</source>
        <translation>正在更换引擎，暂停监听…</translation>
    </message>
    <message>
        <source>the engine is ready</source>
        <translation>引擎已就绪</translation>
    </message>
    <message>
        <source>the engine is loading the base; requests get 503 until it is ready</source>
        <translation>引擎正在加载基础模型；就绪前请求将返回 503</translation>
    </message>
    <message>
        <source>the engine failed: %1 (turn the server off and on to try again)</source>
        <translation>引擎出错：%1（关闭后重新打开服务器即可重试）</translation>
    </message>
    <message>
        <source>Listening on %1; %2.</source>
        <translation>正在监听 %1；%2。</translation>
    </message>
    <message numerus="yes">
        <source>%n client(s) served</source>
        <translation>
            <numerusform>已服务 %n 个客户端</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n request(s)</source>
        <translation>
            <numerusform>%n 个请求</numerusform>
        </translation>
    </message>
    <message>
        <source>Local API server</source>
        <translation>本地 API 服务器</translation>
    </message>
    <message>
        <source>Serve the models over an OpenAI-compatible HTTP API</source>
        <translation>通过兼容 OpenAI 的 HTTP API 提供模型</translation>
    </message>
    <message>
        <source>Other programs (editors, chat front ends, OpenAI client libraries) can then use the base and its experts. Requests share the engine with the chat.</source>
        <translation>其他程序（编辑器、聊天前端、OpenAI 客户端库）随后即可使用基础模型及其专家。请求与对话共用同一个引擎。</translation>
    </message>
    <message>
        <source>Address:</source>
        <translation>地址：</translation>
    </message>
    <message>
        <source>127.0.0.1 answers this computer only; 0.0.0.0 listens on every network interface.</source>
        <translation>127.0.0.1 只响应本机；0.0.0.0 在所有网络接口上监听。</translation>
    </message>
    <message>
        <source>Port:</source>
        <translation>端口：</translation>
    </message>
    <message>
        <source>any free</source>
        <translation>任意</translation>
    </message>
    <message>
        <source>API key:</source>
        <translation>API 密钥：</translation>
    </message>
    <message>
        <source>none (no key is asked for)</source>
        <translation>无（不要求密钥）</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Base URL:</source>
        <translation>基础 URL：</translation>
    </message>
    <message>
        <source>Example:</source>
        <translation>示例：</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copies the example command (with the API key) to the clipboard.</source>
        <translation>将示例命令（含 API 密钥）复制到剪贴板。</translation>
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
    <name>ChatCodeBlock</name>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy this code to the clipboard</source>
        <translation>将此代码复制到剪贴板</translation>
    </message>
</context>
<context>
    <name>ChatExport</name>
    <message>
        <source>Untitled chat</source>
        <translation>未命名对话</translation>
    </message>
    <message>
        <source>System prompt:</source>
        <translation>系统提示：</translation>
    </message>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
</context>
<context>
    <name>ChatListModel</name>
    <message>
        <source>Untitled chat</source>
        <translation>未命名对话</translation>
    </message>
    <message>
        <source>Last message: %1</source>
        <translation>最后一条消息：%1</translation>
    </message>
</context>
<context>
    <name>ChatMessageWidget</name>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy this message to the clipboard</source>
        <translation>将此消息复制到剪贴板</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Edit this message and send it again (later messages are replaced)</source>
        <translation>编辑此消息并重新发送（其后的消息将被替换）</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Answer this message (it has no answer)</source>
        <translation>回答这条消息（它还没有回答）</translation>
    </message>
    <message>
        <source>Answer this message again (the earlier answers are kept)</source>
        <translation>重新回答这条消息（之前的回答会保留）</translation>
    </message>
    <message>
        <source>Previous answer</source>
        <translation>上一个回答</translation>
    </message>
    <message>
        <source>Next answer</source>
        <translation>下一个回答</translation>
    </message>
</context>
<context>
    <name>ChatPage</name>
    <message>
        <source>Chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>开始新对话（Ctrl+N）</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>&amp;Expert:</source>
        <translation>专家(&amp;E)：</translation>
    </message>
    <message>
        <source>Automatic: the router picks the expert for every message; below the routing threshold (Settings) the base model answers.</source>
        <translation>自动：由路由器为每条消息选择专家；置信度低于路由阈值（见设置）时由基础模型回答。</translation>
    </message>
    <message>
        <source>Automatic (router)</source>
        <translation>自动（路由）</translation>
    </message>
    <message>
        <source>S&amp;ystem prompt:</source>
        <translation>系统提示词(&amp;Y)：</translation>
    </message>
    <message>
        <source>Optional instructions for the model</source>
        <translation>给模型的可选指示</translation>
    </message>
    <message>
        <source>&amp;Temperature:</source>
        <translation>温度(&amp;T)：</translation>
    </message>
    <message>
        <source>0 always picks the most likely token</source>
        <translation>0 表示总是选择概率最高的词元</translation>
    </message>
    <message>
        <source>Top-&amp;p:</source>
        <translation>Top-p(&amp;P)：</translation>
    </message>
    <message>
        <source>&amp;Max tokens:</source>
        <translation>最大词元数(&amp;M)：</translation>
    </message>
    <message>
        <source>See&amp;d:</source>
        <translation>随机种子(&amp;D)：</translation>
    </message>
    <message>
        <source>random</source>
        <translation>随机</translation>
    </message>
    <message>
        <source>Ask anything: the router sends every message to the expert that suits it.
Ctrl+Enter sends, Esc stops, Ctrl+N starts a new chat.</source>
        <translation>尽管提问：路由器会把每条消息交给最合适的专家。
Ctrl+Enter 发送，Esc 停止，Ctrl+N 开始新对话。</translation>
    </message>
    <message>
        <source>Editing an earlier message: sending replaces it and everything after it.</source>
        <translation>正在编辑较早的消息：发送后将替换它及其后的所有消息。</translation>
    </message>
    <message>
        <source>Cancel edit</source>
        <translation>取消编辑</translation>
    </message>
    <message>
        <source>Message (Ctrl+Enter to send)</source>
        <translation>输入消息（Ctrl+Enter 发送）</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Send the message (Ctrl+Enter)</source>
        <translation>发送消息（Ctrl+Enter）</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the answer (Esc)</source>
        <translation>停止回答（Esc）</translation>
    </message>
    <message>
        <source>%1 (base model)</source>
        <translation>%1（基础模型）</translation>
    </message>
    <message>
        <source>full weights</source>
        <translation>完整权重</translation>
    </message>
    <message>
        <source>a removed model</source>
        <translation>已移除的模型</translation>
    </message>
    <message>
        <source>Answered by %1</source>
        <translation>由 %1 回答</translation>
    </message>
    <message>
        <source>Answered by the base model %1</source>
        <translation>由基础模型 %1 回答</translation>
    </message>
    <message>
        <source>Answered by the base model</source>
        <translation>由基础模型回答</translation>
    </message>
    <message>
        <source>routing confidence %1%</source>
        <translation>路由置信度 %1%</translation>
    </message>
    <message>
        <source>below the routing threshold %1%</source>
        <translation>低于路由阈值 %1%</translation>
    </message>
    <message>
        <source>empty message: not routed</source>
        <translation>空消息：未路由</translation>
    </message>
    <message>
        <source>routing unavailable: %1</source>
        <translation>路由不可用：%1</translation>
    </message>
    <message>
        <source>chosen by hand</source>
        <translation>手动选择</translation>
    </message>
    <message numerus="yes">
        <source>%n tokens</source>
        <translation>
            <numerusform>%n 个词元</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 tokens/s</source>
        <translation>%1 词元/秒</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>reached the token limit</source>
        <translation>已达词元上限</translation>
    </message>
    <message>
        <source>reached the context length</source>
        <translation>已达上下文长度</translation>
    </message>
    <message>
        <source>Choosing the expert…</source>
        <translation>正在选择专家…</translation>
    </message>
    <message>
        <source>%1 is answering</source>
        <translation>%1 正在回答</translation>
    </message>
    <message>
        <source>The base model %1 is answering</source>
        <translation>基础模型 %1 正在回答</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>错误：%1</translation>
    </message>
    <message>
        <source>Delete the conversation &quot;%1&quot; and all its messages? This cannot be undone.</source>
        <translation>删除对话“%1”及其所有消息？此操作无法撤销。</translation>
    </message>
    <message>
        <source>Delete conversation</source>
        <translation>删除对话</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Routing the message…</source>
        <translation>正在路由消息…</translation>
    </message>
    <message>
        <source>Generating with %1…</source>
        <translation>正在用 %1 生成…</translation>
    </message>
    <message numerus="yes">
        <source>Stopped after %n tokens.</source>
        <translation>
            <numerusform>已在 %n 个词元后停止。</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 answered: %n tokens at %2 tokens/s.</source>
        <translation>
            <numerusform>%1 已回答：%n 个词元，%2 词元/秒。</numerusform>
        </translation>
    </message>
    <message>
        <source>The base model is answering</source>
        <translation>基础模型正在回答</translation>
    </message>
    <message>
        <source>Generating with the base model…</source>
        <translation>正在用基础模型生成…</translation>
    </message>
    <message numerus="yes">
        <source>The base model answered: %n tokens at %1 tokens/s.</source>
        <translation>
            <numerusform>基础模型已回答：%n 个词元，%1 词元/秒。</numerusform>
        </translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Save this conversation as a Markdown or JSON file</source>
        <translation>将此对话保存为 Markdown 或 JSON 文件</translation>
    </message>
    <message>
        <source>Export conversation</source>
        <translation>导出对话</translation>
    </message>
    <message>
        <source>Markdown (*.md);;JSON (*.json)</source>
        <translation>Markdown (*.md);;JSON (*.json)</translation>
    </message>
    <message>
        <source>the conversation no longer exists</source>
        <translation>该对话已不存在</translation>
    </message>
    <message>
        <source>Could not export the conversation to %1: %2</source>
        <translation>无法将对话导出到 %1：%2</translation>
    </message>
    <message>
        <source>Exported the conversation to %1.</source>
        <translation>已将对话导出到 %1。</translation>
    </message>
    <message>
        <source>Stopped before the answer began. Regenerate answers again.</source>
        <translation>在回答开始前已停止。“重新生成”可再次回答。</translation>
    </message>
    <message>
        <source>model defaults: %1</source>
        <translation>模型默认值：%1</translation>
    </message>
    <message>
        <source>M&amp;odel defaults</source>
        <translation>模型默认值(&amp;O)</translation>
    </message>
    <message>
        <source>Use the sampling settings each model ships in its generation_config.json (temperature, top-p, max tokens) where it has them; the values here fill the rest. Off: always the values here.</source>
        <translation>使用每个模型在其 generation_config.json 中提供的采样设置（温度、top-p、最大令牌数），其余由此处的值补充。关闭：始终使用此处的值。</translation>
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
        <translation>逐层输出误差</translation>
    </message>
    <message>
        <source>Bits per parameter</source>
        <translation>每参数比特数</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Relative output error ‖X(Δ−Δ̂)ᵀ‖ / ‖XΔᵀ‖ per layer</source>
        <translation>逐层相对输出误差 ‖X(Δ−Δ̂)ᵀ‖ / ‖XΔᵀ‖</translation>
    </message>
    <message>
        <source>RTN baseline (same bits)</source>
        <translation>RTN 基线（相同比特数）</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Relative error</source>
        <translation>相对误差</translation>
    </message>
    <message>
        <source>Stored bits per parameter per layer</source>
        <translation>逐层每参数存储比特数</translation>
    </message>
    <message>
        <source>bits / parameter</source>
        <translation>比特/参数</translation>
    </message>
    <message>
        <source>Bits</source>
        <translation>比特数</translation>
    </message>
    <message>
        <source>Expert size before and after compression</source>
        <translation>压缩前后的专家大小</translation>
    </message>
    <message>
        <source>Expert weights</source>
        <translation>专家权重</translation>
    </message>
    <message>
        <source>Compressed delta</source>
        <translation>压缩后的增量</translation>
    </message>
    <message>
        <source>MiB</source>
        <translation>MiB</translation>
    </message>
    <message>
        <source>Layers: %1</source>
        <translation>层：%1</translation>
    </message>
    <message>
        <source>%1 → %2 (%3× smaller)</source>
        <translation>%1 → %2（缩小 %3 倍）</translation>
    </message>
</context>
<context>
    <name>CompressPage</name>
    <message>
        <source>Calibration text (one sample per line)</source>
        <translation>校准文本（每行一个样本）</translation>
    </message>
    <message>
        <source>Text files (*.txt);;All files (*)</source>
        <translation>文本文件 (*.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Compress</source>
        <translation>压缩</translation>
    </message>
    <message>
        <source>Compression settings</source>
        <translation>压缩设置</translation>
    </message>
    <message>
        <source>&amp;Expert:</source>
        <translation>专家(&amp;E)：</translation>
    </message>
    <message>
        <source>&amp;Method:</source>
        <translation>方法(&amp;M)：</translation>
    </message>
    <message>
        <source>ME-Switch keeps the most salient input channels in 16 bits and quantizes the rest; RTN rounds every weight to the nearest level; BitDelta keeps one sign bit per weight and one scale per matrix</source>
        <translation>ME-Switch 以 16 比特保留最显著的输入通道并量化其余通道；RTN 将每个权重舍入到最近的量化级；BitDelta 为每个权重保留一个符号位，每个矩阵一个缩放系数</translation>
    </message>
    <message>
        <source>&amp;Bits:</source>
        <translation>比特数(&amp;B)：</translation>
    </message>
    <message>
        <source>&amp;Salient channels:</source>
        <translation>显著通道(&amp;S)：</translation>
    </message>
    <message>
        <source>Fraction of each layer&apos;s input channels kept in 16 bits (ME-Switch only)</source>
        <translation>每层以 16 比特保留的输入通道比例（仅 ME-Switch）</translation>
    </message>
    <message>
        <source>C&amp;alibration:</source>
        <translation>校准(&amp;A)：</translation>
    </message>
    <message>
        <source>Built-in text + the expert&apos;s domain examples</source>
        <translation>内置文本 + 专家所属领域的示例</translation>
    </message>
    <message>
        <source>Text file (one sample per line)</source>
        <translation>文本文件（每行一个样本）</translation>
    </message>
    <message>
        <source>calibration text file</source>
        <translation>校准文本文件</translation>
    </message>
    <message>
        <source>Bro&amp;wse…</source>
        <translation>浏览(&amp;W)…</translation>
    </message>
    <message>
        <source>Also measure the RTN &amp;baseline at the same bits</source>
        <translation>同时测量相同比特数的 RTN 基线(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Compress</source>
        <translation>压缩(&amp;C)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop the compression (Esc); nothing is written</source>
        <translation>停止压缩（Esc）；不会写入任何内容</translation>
    </message>
    <message>
        <source>Finished runs of this expert</source>
        <translation>此专家已完成的压缩运行</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Salient</source>
        <translation>显著通道</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Mean output error</source>
        <translation>平均输出误差</translation>
    </message>
    <message>
        <source>Charts</source>
        <translation>图表</translation>
    </message>
    <message>
        <source>Saliency</source>
        <translation>显著性</translation>
    </message>
    <message>
        <source>Ready.</source>
        <translation>就绪。</translation>
    </message>
    <message>
        <source>The catalog could not be read:
%1</source>
        <translation>无法读取模型目录：
%1</translation>
    </message>
    <message>
        <source>%1-bit %2</source>
        <translation>%1 比特 %2</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>estimating…</source>
        <translation>正在估算…</translation>
    </message>
    <message>
        <source>Elapsed %1 — remaining about %2</source>
        <translation>已用 %1 — 剩余约 %2</translation>
    </message>
    <message>
        <source>Layers done: %1 — %2</source>
        <translation>已完成层：%1 — %2</translation>
    </message>
    <message>
        <source>Done in %1: %2 layers, %3 bits/param, mean output error %4.</source>
        <translation>用时 %1 完成：%2 层，%3 比特/参数，平均输出误差 %4。</translation>
    </message>
    <message>
        <source>The compression was cancelled. No delta file was written and the catalog is unchanged.</source>
        <translation>压缩已取消。未写入增量文件，模型目录未改变。</translation>
    </message>
    <message>
        <source>The compression failed:
%1</source>
        <translation>压缩失败：
%1</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>Failed.</source>
        <translation>失败。</translation>
    </message>
    <message>
        <source>The run could not be read from the catalog:
%1</source>
        <translation>无法从模型目录读取此运行：
%1</translation>
    </message>
    <message>
        <source>This run did not finish: %1</source>
        <translation>此运行未完成：%1</translation>
    </message>
    <message>
        <source>Mean relative output error over the layers</source>
        <translation>各层的平均相对输出误差</translation>
    </message>
    <message>
        <source>The expert&apos;s layer widths are unknown (no config.json).</source>
        <translation>该专家的层宽度未知（没有 config.json）。</translation>
    </message>
    <message>
        <source>Keeps %1 of %2 input channels per layer (attention, MLP gate and up), %3 of %4 (MLP down).</source>
        <translation>每层保留 %2 个输入通道中的 %1 个（注意力、MLP gate 和 up），%4 个中的 %3 个（MLP down）。</translation>
    </message>
    <message>
        <source>Keeps %1 of %2 input channels per layer.</source>
        <translation>每层保留 %2 个输入通道中的 %1 个。</translation>
    </message>
    <message>
        <source>Warning: %1 % of %2 inputs keeps no channel; ask for at least %3 % to keep one.</source>
        <translation>警告：%2 个输入的 %1 % 不保留任何通道；至少设为 %3 % 才能保留一个。</translation>
    </message>
    <message>
        <source>Time: calibration forward %1 s (%2 windows), statistics %3 s, layers %4 s, embeddings and head %5 s, loading %6 s, writing %7 s.</source>
        <translation>用时：校准前向 %1 秒（%2 个窗口），统计 %3 秒，各层 %4 秒，嵌入和输出头 %5 秒，加载 %6 秒，写入 %7 秒。</translation>
    </message>
</context>
<context>
    <name>EngineHost</name>
    <message>
        <source>Looking for compute devices…</source>
        <translation>正在查找计算设备…</translation>
    </message>
    <message numerus="yes">
        <source>%n GPU(s) found.</source>
        <translation>
            <numerusform>找到 %n 个 GPU。</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>EngineWorker</name>
    <message>
        <source>Cancelled before it started.</source>
        <translation>在开始前已取消。</translation>
    </message>
</context>
<context>
    <name>FirstRun</name>
    <message>
        <source>Welcome to ME-Switch Studio</source>
        <translation>欢迎使用 ME-Switch Studio</translation>
    </message>
    <message>
        <source>Install demo pack</source>
        <translation>安装演示包</translation>
    </message>
    <message>
        <source>Not now</source>
        <translation>暂不</translation>
    </message>
    <message>
        <source>Your catalog is empty. Install the demo expert pack?

It adds a small base model and three experts fine-tuned from it (arithmetic, Python functions, facts), with their domains and example prompts, compresses the experts and trains the router, so that you can chat with automatically routed experts at once. It takes about a minute and needs no download.</source>
        <translation>你的模型目录是空的。要安装演示专家包吗？

它会添加一个小型基础模型和三个由其微调而来的专家（算术、Python 函数、常识），以及它们的领域和示例提示词，压缩这些专家并训练路由器，让你立即就能与自动路由的专家对话。大约需要一分钟，无需下载。</translation>
    </message>
    <message>
        <source>Installing the demo pack</source>
        <translation>正在安装演示包</translation>
    </message>
    <message>
        <source>Preparing…</source>
        <translation>正在准备…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>The demo pack could not be installed:

%1</source>
        <translation>无法安装演示包：

%1</translation>
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
    <name>ImportWizard</name>
    <message>
        <source>Import a model</source>
        <translation>导入模型</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Choose a Hugging Face model folder: config.json, safetensors weights (one file or shards with model.safetensors.index.json) and tokenizer.json. The folder is used where it is; nothing in it is changed.</source>
        <translation>选择一个 Hugging Face 模型文件夹：config.json、safetensors 权重（单个文件，或带 model.safetensors.index.json 的分片）和 tokenizer.json。文件夹在原位置使用，其中的内容不会被修改。</translation>
    </message>
    <message>
        <source>&amp;Folder:</source>
        <translation>文件夹(&amp;F)：</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>浏览(&amp;B)…</translation>
    </message>
    <message>
        <source>Validation report</source>
        <translation>校验报告</translation>
    </message>
    <message>
        <source>Role and domain</source>
        <translation>角色与领域</translation>
    </message>
    <message>
        <source>B&amp;ase model</source>
        <translation>基础模型(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Expert of:</source>
        <translation>专家，基于(&amp;E)：</translation>
    </message>
    <message>
        <source>&amp;Domain:</source>
        <translation>领域(&amp;D)：</translation>
    </message>
    <message>
        <source>existing or new domain, e.g. math</source>
        <translation>已有或新的领域，例如 math</translation>
    </message>
    <message>
        <source>Des&amp;cription:</source>
        <translation>描述(&amp;C)：</translation>
    </message>
    <message>
        <source>E&amp;xample prompts
(one per line):</source>
        <translation>示例提示词(&amp;X)
（每行一个）：</translation>
    </message>
    <message>
        <source>C&amp;opy the folder into the data folder</source>
        <translation>将文件夹复制到数据文件夹(&amp;O)</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Choose a model folder</source>
        <translation>选择模型文件夹</translation>
    </message>
    <message>
        <source>Checking %1…</source>
        <translation>正在检查 %1…</translation>
    </message>
    <message>
        <source>The folder could not be checked:</source>
        <translation>无法检查该文件夹：</translation>
    </message>
    <message>
        <source>—</source>
        <translation>—</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>Dtype</source>
        <translation>数据类型</translation>
    </message>
    <message>
        <source>Tensor data</source>
        <translation>张量数据</translation>
    </message>
    <message>
        <source>Tensors</source>
        <translation>张量数</translation>
    </message>
    <message>
        <source>Weight files</source>
        <translation>权重文件</translation>
    </message>
    <message>
        <source>Tokenizer</source>
        <translation>分词器</translation>
    </message>
    <message>
        <source>missing or unreadable</source>
        <translation>缺失或无法读取</translation>
    </message>
    <message>
        <source>Chat template</source>
        <translation>对话模板</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>Matches imported base</source>
        <translation>匹配的已导入基础模型</translation>
    </message>
    <message>
        <source>none (it can be imported as a base)</source>
        <translation>无（可作为基础模型导入）</translation>
    </message>
    <message>
        <source>The folder can be imported.</source>
        <translation>该文件夹可以导入。</translation>
    </message>
    <message>
        <source>The folder cannot be imported:</source>
        <translation>该文件夹无法导入：</translation>
    </message>
    <message>
        <source>Fix the folder, then go back and choose it again.</source>
        <translation>请修正该文件夹，然后返回重新选择。</translation>
    </message>
    <message>
        <source>This folder does not have the architecture and tensor shapes of “%1”: the import will be refused.</source>
        <translation>该文件夹的架构和张量形状与“%1”不符：导入将被拒绝。</translation>
    </message>
    <message>
        <source>An expert is stored as its difference to the base and can be compressed.</source>
        <translation>专家以其与基础模型的差值存储，并且可以压缩。</translation>
    </message>
    <message>
        <source>A base model holds the weights its experts are fine-tuned from.</source>
        <translation>基础模型保存其专家据以微调的权重。</translation>
    </message>
    <message>
        <source>Importing %1…</source>
        <translation>正在导入 %1…</translation>
    </message>
    <message>
        <source>Done: “%1” was imported as an expert (%2 parameters). Compress it from the Library or the Compress page.</source>
        <translation>完成：“%1”已作为专家导入（%2 个参数）。可在模型库或压缩页面压缩它。</translation>
    </message>
    <message>
        <source>Done: “%1” was imported as a base model (%2 parameters).</source>
        <translation>完成：“%1”已作为基础模型导入（%2 个参数）。</translation>
    </message>
    <message>
        <source>The import was cancelled; the catalog is unchanged.</source>
        <translation>导入已取消；模型目录未改变。</translation>
    </message>
    <message>
        <source>The import failed; the catalog is unchanged. Go back to change the choices.</source>
        <translation>导入失败；模型目录未改变。请返回修改选项。</translation>
    </message>
    <message>
        <source>Na&amp;me:</source>
        <translation>名称(&amp;M)：</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
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
    <message>
        <source>Import…</source>
        <translation>导入…</translation>
    </message>
    <message>
        <source>Import a Hugging Face model folder as a base or an expert (Ctrl+I); you can also drop a folder on this page</source>
        <translation>将 Hugging Face 模型文件夹导入为基础模型或专家（Ctrl+I）；也可以把文件夹拖放到此页面</translation>
    </message>
    <message>
        <source>Compress…</source>
        <translation>压缩…</translation>
    </message>
    <message>
        <source>Compress the selected expert&apos;s delta (Ctrl+Shift+C)</source>
        <translation>压缩所选专家的增量（Ctrl+Shift+C）</translation>
    </message>
    <message>
        <source>No models yet.

Import one with Import… (Ctrl+I), by dropping a model folder here, or with:
    meswitch import PATH</source>
        <translation>还没有模型。

可通过“导入…”（Ctrl+I）、将模型文件夹拖放到这里，或使用以下命令导入：
    meswitch import PATH</translation>
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
    <message>
        <source>&amp;New chat</source>
        <translation>新对话(&amp;N)</translation>
    </message>
    <message>
        <source>Device: CPU (chosen in Settings)</source>
        <translation>设备：CPU（在设置中选择）</translation>
    </message>
    <message>
        <source>Device: CPU (%1 not found)</source>
        <translation>设备：CPU（未找到 %1）</translation>
    </message>
    <message>
        <source>Memory: %1 free of %2</source>
        <translation>内存：可用 %1，共 %2</translation>
    </message>
    <message>
        <source>Memory: %1</source>
        <translation>内存：%1</translation>
    </message>
    <message>
        <source>Install &amp;demo pack…</source>
        <translation>安装演示包(&amp;D)…</translation>
    </message>
    <message>
        <source>Add the bundled demo base model and its three experts to the catalog (compressed, with the router trained)</source>
        <translation>将附带的演示基础模型及其三个专家添加到目录中（已压缩，路由器已训练）</translation>
    </message>
    <message>
        <source>Install demo pack</source>
        <translation>安装演示包</translation>
    </message>
    <message>
        <source>No demo pack was found. It is installed with the application under share/meswitch-studio/demo; MESWITCH_DEMO_DIR can point to another folder that holds a pack.json.</source>
        <translation>未找到演示包。它随应用程序安装在 share/meswitch-studio/demo 下；MESWITCH_DEMO_DIR 可以指向另一个包含 pack.json 的文件夹。</translation>
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
    <name>MoePage</name>
    <message>
        <source>MoE families</source>
        <translation>MoE 模型族</translation>
    </message>
    <message>
        <source>Consolidation plan:</source>
        <translation>合并方案：</translation>
    </message>
    <message>
        <source>Colour by:</source>
        <translation>着色依据：</translation>
    </message>
    <message>
        <source>shared / own</source>
        <translation>共享 / 独有</translation>
    </message>
    <message>
        <source>distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Cannot read the plans: %1</source>
        <translation>无法读取方案：%1</translation>
    </message>
    <message>
        <source> (#%1, %2 of %3 shared)</source>
        <translation>（#%1，%3 个中共享 %2 个）</translation>
    </message>
    <message>
        <source>Variants: %1. %2 of %3 positions shared by all variants; expert memory %4 instead of %5 (saves %6). Metric %7, shared block = %8.</source>
        <translation>变体：%1。%3 个位置中有 %2 个由所有变体共享；专家内存 %4（原为 %5，节省 %6）。度量 %7，共享块 = %8。</translation>
    </message>
    <message>
        <source>layer %1</source>
        <translation>第 %1 层</translation>
    </message>
    <message>
        <source>expert %1</source>
        <translation>专家 %1</translation>
    </message>
    <message>
        <source>shared</source>
        <translation>共享</translation>
    </message>
    <message>
        <source>own</source>
        <translation>独有</translation>
    </message>
    <message>
        <source>layer %1, expert %2: mean distance between variants %3, to the base %4</source>
        <translation>第 %1 层，专家 %2：变体间平均距离 %3，与基础模型的距离 %4</translation>
    </message>
    <message>
        <source>Making the plan: %1</source>
        <translation>正在制定计划：%1</translation>
    </message>
    <message>
        <source>Plan saved.</source>
        <translation>计划已保存。</translation>
    </message>
    <message>
        <source>Cancelled: no plan was saved.</source>
        <translation>已取消：没有保存计划。</translation>
    </message>
    <message>
        <source>The plan could not be made: %1</source>
        <translation>无法制定计划：%1</translation>
    </message>
    <message>
        <source>Making the plan…</source>
        <translation>正在制定计划…</translation>
    </message>
    <message>
        <source>Delete plan</source>
        <translation>删除计划</translation>
    </message>
    <message>
        <source>Delete the consolidation plan &quot;%1&quot;? The models are not touched.</source>
        <translation>删除合并计划“%1”？模型不受影响。</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Cannot delete the plan: %1</source>
        <translation>无法删除计划：%1</translation>
    </message>
    <message>
        <source>Plan deleted.</source>
        <translation>计划已删除。</translation>
    </message>
    <message>
        <source>&amp;New plan…</source>
        <translation>新建计划(&amp;N)…</translation>
    </message>
    <message>
        <source>Measure the distances between the variants&apos; experts and share the most similar positions (as meswitch moe plan does)</source>
        <translation>测量各变体专家之间的距离，并共享最相似的位置（与 meswitch moe plan 相同）</translation>
    </message>
    <message>
        <source>&amp;Delete plan</source>
        <translation>删除计划(&amp;D)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>No consolidation plan yet. Make one with New plan…, or on the command line: meswitch moe plan --base BASE --variant A --variant B …</source>
        <translation>还没有合并计划。用“新建计划…”创建一个，或在命令行中运行：meswitch moe plan --base BASE --variant A --variant B …</translation>
    </message>
</context>
<context>
    <name>MoePlanDialog</name>
    <message>
        <source>Base model folder</source>
        <translation>基础模型文件夹</translation>
    </message>
    <message>
        <source>Variant folder</source>
        <translation>变体文件夹</translation>
    </message>
    <message>
        <source>Choose the base model (a catalog model or a folder).</source>
        <translation>请选择基础模型（目录中的模型或文件夹）。</translation>
    </message>
    <message>
        <source>Tick at least two variants.</source>
        <translation>请至少勾选两个变体。</translation>
    </message>
    <message>
        <source>The base cannot also be a variant.</source>
        <translation>基础模型不能同时作为变体。</translation>
    </message>
    <message>
        <source>New consolidation plan</source>
        <translation>新建合并计划</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>名称(&amp;N)：</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>可选</translation>
    </message>
    <message>
        <source>&amp;Base:</source>
        <translation>基础(&amp;B)：</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>&amp;Variants:</source>
        <translation>变体(&amp;V)：</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>&amp;Distance:</source>
        <translation>距离(&amp;D)：</translation>
    </message>
    <message>
        <source>L2</source>
        <translation>L2</translation>
    </message>
    <message>
        <source>cosine</source>
        <translation>余弦</translation>
    </message>
    <message>
        <source>&amp;Shared block:</source>
        <translation>共享块(&amp;S)：</translation>
    </message>
    <message>
        <source>mean of the variants</source>
        <translation>各变体的平均</translation>
    </message>
    <message>
        <source>medoid variant</source>
        <translation>中心变体</translation>
    </message>
    <message>
        <source>the base&apos;s</source>
        <translation>基础模型的</translation>
    </message>
    <message>
        <source>Share this many positions:</source>
        <translation>共享的位置数：</translation>
    </message>
    <message>
        <source>Or fit the expert blocks in (MiB):</source>
        <translation>或将专家块限制在（MiB）：</translation>
    </message>
    <message>
        <source>&amp;Make plan</source>
        <translation>制定计划(&amp;M)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>SaliencyView</name>
    <message>
        <source>&amp;Layer:</source>
        <translation>层(&amp;L)：</translation>
    </message>
    <message>
        <source>&amp;Map:</source>
        <translation>图(&amp;M)：</translation>
    </message>
    <message>
        <source>|Δ| (delta magnitude)</source>
        <translation>|Δ|（增量幅值）</translation>
    </message>
    <message>
        <source>Quantization error |Δ − Δ̂|</source>
        <translation>量化误差 |Δ − Δ̂|</translation>
    </message>
    <message>
        <source>Zoom &amp;in</source>
        <translation>放大(&amp;I)</translation>
    </message>
    <message>
        <source>Zoom &amp;out</source>
        <translation>缩小(&amp;O)</translation>
    </message>
    <message>
        <source>Zoom out of the heat map (mouse wheel or −)</source>
        <translation>缩小热图（鼠标滚轮或 −）</translation>
    </message>
    <message>
        <source>&amp;Fit</source>
        <translation>适应(&amp;F)</translation>
    </message>
    <message>
        <source>Show the whole layer again (0)</source>
        <translation>重新显示整层（0）</translation>
    </message>
    <message>
        <source>Δ per input channel: min and max over output rows</source>
        <translation>每个输入通道的 Δ：各输出行上的最小值与最大值</translation>
    </message>
    <message>
        <source>max Δ</source>
        <translation>最大 Δ</translation>
    </message>
    <message>
        <source>min Δ</source>
        <translation>最小 Δ</translation>
    </message>
    <message>
        <source>salient (kept in 16 bits)</source>
        <translation>显著（以 16 比特保留）</translation>
    </message>
    <message>
        <source>Input channel</source>
        <translation>输入通道</translation>
    </message>
    <message>
        <source>Δ</source>
        <translation>Δ</translation>
    </message>
    <message>
        <source>Drag horizontally to zoom into channels; Fit resets</source>
        <translation>水平拖动可放大通道；“适应”可复原</translation>
    </message>
    <message>
        <source>Reading %1 from the models and the artifact…</source>
        <translation>正在从模型和压缩文件读取 %1…</translation>
    </message>
    <message>
        <source>This layer could not be inspected:
%1</source>
        <translation>无法查看此层：
%1</translation>
    </message>
    <message>
        <source>%1: %2 × %3 (outputs × input channels)</source>
        <translation>%1：%2 × %3（输出 × 输入通道）</translation>
    </message>
    <message>
        <source>%1 salient input channels kept in 16 bits (%2 %3-bit); relative weight error ‖Δ − Δ̂‖/‖Δ‖ = %4</source>
        <translation>%1 个显著输入通道以 16 比特保留（%2 %3 比特）；相对权重误差 ‖Δ − Δ̂‖/‖Δ‖ = %4</translation>
    </message>
    <message>
        <source>The artifact does not store this layer.</source>
        <translation>压缩文件中没有存储此层。</translation>
    </message>
    <message>
        <source>No quantization error to show: the artifact does not store this layer.</source>
        <translation>没有可显示的量化误差：压缩文件中没有存储此层。</translation>
    </message>
    <message>
        <source>Rows: output channels %1–%2; columns: input channels %3–%4; each cell shows the largest value of its block. Black 0 → yellow %5.</source>
        <translation>行：输出通道 %1–%2；列：输入通道 %3–%4；每个单元格显示其块中的最大值。黑色 0 → 黄色 %5。</translation>
    </message>
    <message>
        <source>Zoom into the heat map (mouse wheel or +); from 2× on, the visible part is read again in finer detail</source>
        <translation>放大热力图（鼠标滚轮或 +）；放大到 2 倍及以上时，会以更精细的分辨率重新读取可见部分</translation>
    </message>
    <message>
        <source>The detail could not be read:
%1</source>
        <translation>无法读取细节：
%1</translation>
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
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>GPU %1: %2</source>
        <translation>GPU %1：%2</translation>
    </message>
    <message>
        <source>%1 (not found)</source>
        <translation>%1（未找到）</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Compute device:</source>
        <translation>计算设备：</translation>
    </message>
    <message>
        <source>Memory for resident experts:</source>
        <translation>常驻专家内存：</translation>
    </message>
    <message>
        <source> MiB</source>
        <translation> MiB</translation>
    </message>
    <message>
        <source>Automatic uses the first GPU when this build and machine have one, else the CPU. Compressed experts are kept resident up to the memory budget.</source>
        <translation>“自动”在本版本和本机都支持时使用第一块 GPU，否则使用 CPU。压缩专家在内存预算之内常驻。</translation>
    </message>
    <message>
        <source>Compression defaults</source>
        <translation>默认压缩设置</translation>
    </message>
    <message>
        <source>Method:</source>
        <translation>方法：</translation>
    </message>
    <message>
        <source>ME-Switch (salient channels + low-bit)</source>
        <translation>ME-Switch（显著通道 + 低比特）</translation>
    </message>
    <message>
        <source>RTN (round to nearest)</source>
        <translation>RTN（就近舍入）</translation>
    </message>
    <message>
        <source>BitDelta (1-bit sign + scale)</source>
        <translation>BitDelta（1 比特符号 + 缩放）</translation>
    </message>
    <message>
        <source>Bits:</source>
        <translation>比特数：</translation>
    </message>
    <message>
        <source>Salient input channels:</source>
        <translation>显著输入通道：</translation>
    </message>
    <message>
        <source>Routing</source>
        <translation>路由</translation>
    </message>
    <message>
        <source>Routing threshold:</source>
        <translation>路由阈值：</translation>
    </message>
    <message>
        <source>When the router&apos;s confidence is below the threshold, the base model answers and the chat says so.</source>
        <translation>当路由器的置信度低于阈值时，由基础模型回答，并在对话中注明。</translation>
    </message>
    <message numerus="yes">
        <source>About %n Mistral-7B-sized 2-bit expert(s) (%1 each) fit in this budget.</source>
        <translation>
            <numerusform>大约可容纳 %n 个 Mistral-7B 规模的 2 位专家（每个 %1）。</numerusform>
        </translation>
    </message>
    <message>
        <source>Chosen with --home for this run; it takes precedence over this setting.</source>
        <translation>本次运行由 --home 指定；它优先于此设置。</translation>
    </message>
    <message>
        <source>Chosen with the MESWITCH_HOME environment variable; it takes precedence over this setting.</source>
        <translation>由 MESWITCH_HOME 环境变量指定；它优先于此设置。</translation>
    </message>
    <message>
        <source>Without it: %1</source>
        <translation>不指定时：%1</translation>
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

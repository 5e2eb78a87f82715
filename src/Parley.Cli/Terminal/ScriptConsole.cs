using System.Threading.Channels;

namespace Parley.Cli.Terminal;

/// <summary>
/// Plain stdio for scripts and tests (stdin not a terminal): one command per input line, one event per output line,
/// no prompt, no escape sequences. Each line is flushed at once so a reader sees events as they happen.
/// Console input reads block even when called "async", so one background thread does the reading.
/// </summary>
internal sealed class ScriptConsole : IChatConsole
{
    private readonly Lock _gate = new();
    private readonly TextWriter _output;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public ScriptConsole(TextReader input, TextWriter output)
    {
        _output = output;
        new Thread(() =>
        {
            try
            {
                while (input.ReadLine() is { } line)
                {
                    _lines.Writer.TryWrite(line);
                }
            }
            catch (IOException)
            {
                // A closed stdin is the end of input, like EOF.
            }

            _lines.Writer.TryComplete();
        })
        { IsBackground = true, Name = "parley-stdin" }.Start();
    }

    public bool IsInteractive => false;

    public IAsyncEnumerable<string> ReadLinesAsync(CancellationToken cancellationToken) => _lines.Reader.ReadAllAsync(cancellationToken);

    public void WriteLine(string text)
    {
        lock (_gate)
        {
            _output.WriteLine(text);
            _output.Flush();
        }
    }

    public void SetPrompt(string prompt)
    {
    }

    public Task<string?> ReadSecretAsync(string prompt, CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

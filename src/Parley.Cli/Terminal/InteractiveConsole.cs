using System.Text;
using System.Threading.Channels;

namespace Parley.Cli.Terminal;

/// <summary>
/// A small line editor for a real terminal. Keys are read on one background thread; the line being typed is kept
/// here, so when a message arrives it is printed above the input and the prompt and the partial line are redrawn
/// (issue #2: "An incoming message never garbles what the user is typing"). Uses only ANSI/VT100 sequences that
/// every terminal emulator in use understands: CR, cursor up (CSI n A) and erase below (CSI J).
/// </summary>
internal sealed class InteractiveConsole : IChatConsole
{
    private readonly Lock _gate = new();
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly StringBuilder _buffer = new();
    private readonly TextWriter _out = Console.Out;
    private string _prompt = "> ";
    private TaskCompletionSource<string?>? _secret;

    public InteractiveConsole()
    {
        new Thread(ReadKeys) { IsBackground = true, Name = "parley-keys" }.Start();
    }

    public bool IsInteractive => true;

    public IAsyncEnumerable<string> ReadLinesAsync(CancellationToken cancellationToken) => _lines.Reader.ReadAllAsync(cancellationToken);

    public void WriteLine(string text)
    {
        lock (_gate)
        {
            EraseInput();
            _out.Write(text);
            _out.Write('\n');
            DrawInput();
            _out.Flush();
        }
    }

    public void SetPrompt(string prompt)
    {
        lock (_gate)
        {
            EraseInput();
            _prompt = prompt;
            DrawInput();
            _out.Flush();
        }
    }

    public Task<string?> ReadSecretAsync(string prompt, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            EraseInput();
            _out.Write(prompt);
            _out.Flush();
            _secret = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
            cancellationToken.Register(() => _secret?.TrySetResult(null));
            return _secret.Task;
        }
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            EraseInput();
            _out.Flush();
        }

        _lines.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    private void ReadKeys()
    {
        var secret = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo key;
            try
            {
                key = Console.ReadKey(intercept: true);
            }
            catch (InvalidOperationException)
            {
                _lines.Writer.TryComplete();
                return;
            }

            lock (_gate)
            {
                if (_secret is { } pending)
                {
                    if (key.Key == ConsoleKey.Enter)
                    {
                        _secret = null;
                        _out.Write('\n');
                        DrawInput();
                        _out.Flush();
                        pending.TrySetResult(secret.ToString());
                        secret.Clear();
                    }
                    else if (key.Key == ConsoleKey.Backspace && secret.Length > 0)
                    {
                        secret.Length--;
                    }
                    else if (!char.IsControl(key.KeyChar))
                    {
                        secret.Append(key.KeyChar);
                    }

                    continue;
                }

                if (!Edit(key))
                {
                    _lines.Writer.TryComplete();
                    return;
                }
            }
        }
    }

    /// <summary>Applies one key to the line; false at Ctrl+D on an empty line (end of input).</summary>
    private bool Edit(ConsoleKeyInfo key)
    {
        switch (key.Key)
        {
            case ConsoleKey.Enter:
                var line = _buffer.ToString();
                EraseInput();
                _out.Write(_prompt);
                _out.Write(line);
                _out.Write('\n');
                _buffer.Clear();
                DrawInput();
                _out.Flush();
                _lines.Writer.TryWrite(line);
                return true;
            case ConsoleKey.Backspace when _buffer.Length > 0:
                EraseInput();
                _buffer.Length--;
                DrawInput();
                break;
            case ConsoleKey.U when key.Modifiers.HasFlag(ConsoleModifiers.Control):
                EraseInput();
                _buffer.Clear();
                DrawInput();
                break;
            case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control) && _buffer.Length == 0:
                return false;
            default:
                if (!char.IsControl(key.KeyChar))
                {
                    _buffer.Append(key.KeyChar);
                    _out.Write(key.KeyChar);
                }

                break;
        }

        _out.Flush();
        return true;
    }

    /// <summary>Moves to the start of the prompt (which may have wrapped over several rows) and erases to the end of the screen.</summary>
    private void EraseInput()
    {
        var used = _prompt.Length + _buffer.Length;
        var width = Math.Max(1, SafeWidth());
        var rows = used == 0 ? 0 : (used - 1) / width;
        _out.Write('\r');
        if (rows > 0)
        {
            _out.Write($"\x1b[{rows}A");
        }

        _out.Write("\x1b[J");
    }

    private void DrawInput()
    {
        if (_secret is null)
        {
            _out.Write(_prompt);
            _out.Write(_buffer.ToString());
        }
    }

    private static int SafeWidth()
    {
        try
        {
            return Console.WindowWidth;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}

using System.Diagnostics;

namespace Parley.Tests.Support;

/// <summary>
/// A real terminal for the interactive client: a tmux session on a private socket, driven with send-keys and read
/// with capture-pane. `.ci/run` installs tmux; without it these tests fail, they do not skip.
/// </summary>
internal sealed class TmuxTerminal : IAsyncDisposable
{
    private readonly string _socket = "parley-test-" + Guid.NewGuid().ToString("N")[..12];
    private const string Session = "t";

    private TmuxTerminal()
    {
    }

    public static async Task<TmuxTerminal> StartAsync(string command)
    {
        var terminal = new TmuxTerminal();
        await terminal.TmuxAsync("new-session", "-d", "-s", Session, "-x", "100", "-y", "20", command);
        return terminal;
    }

    /// <summary>Types literal text (no Enter).</summary>
    public Task TypeAsync(string text) => TmuxAsync("send-keys", "-t", Session, "-l", text);

    public Task EnterAsync() => TmuxAsync("send-keys", "-t", Session, "Enter");

    public async Task<string[]> ScreenAsync()
    {
        var text = await TmuxAsync("capture-pane", "-p", "-t", Session);
        return text.Split('\n').Select(l => l.TrimEnd()).ToArray();
    }

    /// <summary>Polls the screen (tmux has no change notification) until <paramref name="condition"/> holds.</summary>
    public async Task<string[]> WaitForScreenAsync(Func<string[], bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var screen = await ScreenAsync();
            if (condition(screen))
            {
                return screen;
            }

            if (deadline.Elapsed > ParleyProcess.Timeout)
            {
                Assert.Fail($"The terminal never showed {what}. Screen:\n{string.Join('\n', screen)}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await TmuxAsync("kill-server");
        }
        catch (InvalidOperationException)
        {
            // Already gone with its last window.
        }
    }

    private async Task<string> TmuxAsync(params string[] args)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-L");
        info.ArgumentList.Add(_socket);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("tmux did not start (is it installed?)");
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tmux {string.Join(' ', args)} failed: {error}");
        }

        return output;
    }
}

using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Parley.Tests.Support;

/// <summary>
/// The real <c>parley</c> executable (built beside the tests) run as a user would, stdin and stdout redirected.
/// Every stdout line is kept; <see cref="ExpectLineAsync(string)"/> waits — with a timeout, never a sleep — for the
/// next line and checks it, so a test states exactly what the user saw and in what order.
/// </summary>
internal sealed partial class ParleyProcess : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<string> _stderr = [];
    private readonly SemaphoreSlim _stderrArrived = new(0);
    private readonly SemaphoreSlim _lineArrived = new(0);
    private int _cursor;

    private ParleyProcess(Process process, string name)
    {
        _process = process;
        Name = name;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_lines)
            {
                _lines.Add(e.Data);
            }

            _lineArrived.Release();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.Add(e.Data);
                }

                _stderrArrived.Release();
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static string Executable => Path.Combine(AppContext.BaseDirectory, "parley");

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Everything printed on stdout so far, with the leading seed 004 timestamp ("2023-06-25 09:35:24 ") of message
    /// lines removed, so a transcript compares what was said; <see cref="ExpectMessageAsync"/> checks the stamp is there.
    /// </summary>
    public IReadOnlyList<string> Transcript => [.. Lines.Select(l => Timestamp().Replace(l, "", 1))];

    /// <summary>The next unread line must be seed 004's "&lt;yyyy-MM-dd HH:mm:ss&gt; <paramref name="expected"/>"; returns the time.</summary>
    public async Task<DateTime> ExpectMessageAsync(string expected)
    {
        var line = await NextLineAsync();
        var match = Timestamp().Match(line);
        Assert.True(match.Success && line[match.Length..] == expected,
            $"{Name}: expected \"<time> {expected}\", got \"{line}\"; saw:\n{string.Join('\n', Lines)}");
        return DateTime.ParseExact(match.Value.TrimEnd(), "yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Everything printed on stdout so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    public static ParleyProcess Start(string name, params string[] args) => StartExecutable(Executable, new Dictionary<string, string?>(), name, args);

    /// <summary>Starts <c>parley</c> with <paramref name="environment"/> set on top of a clean one (see <see cref="StartExecutable"/>).</summary>
    public static ParleyProcess StartWithEnvironment(IReadOnlyDictionary<string, string?> environment, string name, params string[] args) =>
        StartExecutable(Executable, environment, name, args);

    /// <summary>
    /// Starts <paramref name="executable"/> (the <c>parley</c> built beside the tests, or a published single file) with
    /// a clean environment, then <paramref name="environment"/> on top (a null value removes a variable).
    /// </summary>
    public static ParleyProcess StartExecutable(string executable, IReadOnlyDictionary<string, string?> environment, string name, params string[] args)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Nothing of the developer's own setup may change a test: no inherited PARLEY_* variable (issue #7 reads every
        // setting from one), and a config directory of the process's own that does not exist, so no
        // ~/.config/parley/parley.json is read. A test that wants either sets it in environment.
        foreach (var inherited in info.Environment.Keys.Where(k => k.StartsWith("PARLEY_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(inherited);
        }

        info.Environment["XDG_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "parley-test-config", Guid.NewGuid().ToString("N"));

        // A client remembers its contacts' keys (issue #5); never in the home directory of whoever runs the tests,
        // and never shared between tests, which reuse ports and so server names. --state-dir overrides it.
        info.Environment["PARLEY_STATE_DIR"] = Path.Combine(Path.GetTempPath(), "parley-test-state", Guid.NewGuid().ToString("N"));
        foreach (var (variable, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(variable);
            }
            else
            {
                info.Environment[variable] = value;
            }
        }

        return new ParleyProcess(Process.Start(info) ?? throw new InvalidOperationException($"{executable} did not start"), name);
    }

    /// <summary>Runs a short command (such as <c>parley user add</c>) to completion.</summary>
    public static async Task<(int ExitCode, IReadOnlyList<string> Lines, string Stderr)> RunAsync(string? stdin, params string[] args)
    {
        await using var process = Start(args[0], args);
        if (stdin is not null)
        {
            await process._process.StandardInput.WriteLineAsync(stdin);
        }

        process._process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Timeout);
        await process._process.WaitForExitAsync(timeout.Token);
        process._process.WaitForExit(); // drains the redirected streams
        return (process._process.ExitCode, process.Lines, process.Stderr);
    }

    public async Task SendLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>The next unread line must be exactly <paramref name="expected"/>.</summary>
    public async Task ExpectLineAsync(string expected) =>
        Assert.True(expected == await NextLineAsync(), $"{Name}: expected \"{expected}\"; saw so far:\n{string.Join('\n', Lines)}\n{Stderr}");

    /// <summary>The next unread line must match <paramref name="pattern"/>; returns the match.</summary>
    public async Task<Match> ExpectLineAsync(Regex pattern)
    {
        var line = await NextLineAsync();
        var match = pattern.Match(line);
        Assert.True(match.Success, $"{Name}: expected /{pattern}/, got \"{line}\"; saw:\n{string.Join('\n', Lines)}");
        return match;
    }

    /// <summary>Skips lines until one satisfies <paramref name="predicate"/>.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> predicate)
    {
        while (true)
        {
            var line = await NextLineAsync();
            if (predicate(line))
            {
                return line;
            }
        }
    }

    /// <summary>Waits until some stderr line (where the server logs) satisfies <paramref name="predicate"/>.</summary>
    public async Task WaitForStderrAsync(Func<string, bool> predicate)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            lock (_stderr)
            {
                if (_stderr.Any(predicate))
                {
                    return;
                }
            }

            try
            {
                await _stderrArrived.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"{Name}: the expected log line did not appear within {Timeout.TotalSeconds} s; stderr:\n{Stderr}");
            }
        }
    }

    /// <summary>SIGTERM, as a service manager would send, then waits for the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        if (!_process.HasExited)
        {
            _ = SendSignal(_process.Id, 15);
            using var timeout = new CancellationTokenSource(Timeout);
            await _process.WaitForExitAsync(timeout.Token);
        }

        return _process.ExitCode;
    }

    /// <summary>SIGINT, as Ctrl-C at the user's terminal sends (seed 000: it ends a direct chat). Does not wait.</summary>
    public void Interrupt()
    {
        Assert.False(_process.HasExited, $"{Name} has already exited; saw:\n{string.Join('\n', Lines)}\n{Stderr}");
        Assert.Equal(0, SendSignal(_process.Id, 2));
    }

    /// <summary>SIGKILL: the process dies at once, as in a crash, with no chance to say goodbye.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _ = SendSignal(_process.Id, 9);
            using var timeout = new CancellationTokenSource(Timeout);
            await _process.WaitForExitAsync(timeout.Token);
        }
    }

    /// <summary>Waits (with the timeout) for the process to end by itself; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.StandardInput.Close();
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        _lineArrived.Dispose();
        _stderrArrived.Dispose();
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SendSignal(int pid, int signal);

    private async Task<string> NextLineAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            lock (_lines)
            {
                if (_cursor < _lines.Count)
                {
                    return _lines[_cursor++];
                }
            }

            try
            {
                await _lineArrived.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"{Name}: no further output within {Timeout.TotalSeconds} s; saw:\n{string.Join('\n', Lines)}\nstderr:\n{Stderr}");
            }
        }
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} ")]
    private static partial Regex Timestamp();
}

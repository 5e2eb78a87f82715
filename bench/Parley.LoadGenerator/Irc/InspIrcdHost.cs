using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Parley.LoadGenerator.Irc;

/// <summary>
/// InspIRCd run as a child process for the side-by-side relay comparison (issue #8), as the first lines of
/// shared/bench/inspircd.conf say to start it. It runs in the foreground (--nofork) so that <see cref="ProcessId"/> is
/// the server itself, whose CPU time and RSS are measured.
/// </summary>
internal sealed class InspIrcdHost : IAsyncDisposable
{
    /// <summary>Where the benchmark configuration binds clients; the config, not this class, decides it.</summary>
    public static readonly IPEndPoint DefaultEndPoint = new(IPAddress.Loopback, 6667);

    // The config puts its pid file and log here, and InspIRCd will not create the directory itself.
    private const string WorkDirectory = "/tmp/parley-bench";
    private const int OutputLinesKept = 20;
    private static readonly string[] KnownLocations = ["/usr/sbin/inspircd", "/usr/bin/inspircd"];
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly Process _process;
    private readonly Hosting.OutputTail _output = new(OutputLinesKept);
    private int _disposed;

    private InspIrcdHost(Process process, IPEndPoint endPoint)
    {
        _process = process;
        ProcessId = process.Id;
        EndPoint = endPoint;
    }

    public int ProcessId { get; }

    public IPEndPoint EndPoint { get; }

    /// <summary>
    /// Starts InspIRCd on <paramref name="configPath"/> and returns once <see cref="DefaultEndPoint"/>, the bench
    /// config's client &lt;bind&gt;, accepts connections.
    /// </summary>
    public static async Task<InspIrcdHost> StartAsync(string configPath, CancellationToken cancellationToken)
    {
        var endPoint = DefaultEndPoint;
        var executable = FindExecutable()
            ?? throw new InvalidOperationException("InspIRCd is not installed (no inspircd in /usr/sbin, /usr/bin or on PATH): install it with `apt-get install inspircd`.");
        var config = Path.GetFullPath(configPath);
        if (!File.Exists(config))
        {
            throw new FileNotFoundException($"The InspIRCd configuration {config} does not exist.", config);
        }

        // Measuring whatever already holds the port would report another server's figures under InspIRCd's name.
        if (await AcceptsAsync(endPoint, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException(
                $"Something already accepts connections on {endPoint} (another IRC server?). Stop it first, e.g. `kill $(cat {WorkDirectory}/inspircd.pid)`.");
        }

        Directory.CreateDirectory(WorkDirectory);
        var start = Hosting.CpuPinning.StartInfo(executable, ["--runasroot", "--nofork", $"--config={config}"]);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        var host = new InspIrcdHost(process, endPoint);
        try
        {
            await host.WaitUntilListeningAsync(cancellationToken).ConfigureAwait(false);
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        _process.OutputDataReceived += (_, e) => _output.Add(e.Data);
        _process.ErrorDataReceived += (_, e) => _output.Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();

        var deadline = Stopwatch.GetTimestamp() + (long)(StartTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"InspIRCd exited with code {_process.ExitCode} before listening on {EndPoint} (see also {WorkDirectory}/inspircd.log):\n{_output}");
            }

            if (await AcceptsAsync(EndPoint, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException(
                    $"InspIRCd (pid {ProcessId}) did not accept connections on {EndPoint} within {StartTimeout.TotalSeconds:0} s:\n{_output}");
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>SIGTERM, so InspIRCd closes its clients and removes its pid file; SIGKILL only if it does not exit in time.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited && !await TerminateAsync().ConfigureAwait(false))
            {
                _process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(StopTimeout);
                await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task<bool> TerminateAsync()
    {
        // .NET's Process.Kill only sends SIGKILL; kill(1) sends SIGTERM without P/Invoke (which would need unsafe code here).
        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill") { UseShellExecute = false, ArgumentList = { "-TERM", ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
            if (kill is null)
            {
                return false;
            }

            await kill.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }

        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<bool> AcceptsAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static string? FindExecutable()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return KnownLocations
            .Concat(path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(directory => Path.Combine(directory, "inspircd")))
            .FirstOrDefault(File.Exists);
    }
}

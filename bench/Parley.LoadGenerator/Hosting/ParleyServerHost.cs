using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Parley.Protocol.Security;
using Parley.Storage;

namespace Parley.LoadGenerator.Hosting;

/// <summary>
/// The real <c>parley server</c> (the executable built beside this tool, or <c>--server-exe</c>) on loopback ports
/// chosen by the system, with a fresh data directory whose users were made before it started. Each workload gets its
/// own server, so one run's history or connections never weigh on the next.
/// </summary>
internal sealed partial class ParleyServerHost : IAsyncDisposable
{
    /// <summary>Every benchmark user's password. They live only in a throw-away data directory on loopback.</summary>
    public const string Password = "bench-password";

    private readonly Process _process;
    private readonly string _dataDirectory;

    private ParleyServerHost(Process process, string dataDirectory, IPEndPoint udp)
    {
        _process = process;
        _dataDirectory = dataDirectory;
        UdpEndPoint = udp;
    }

    public IPEndPoint UdpEndPoint { get; }

    public int ProcessId => _process.Id;

    public string DataDirectory => _dataDirectory;

    /// <summary>How the benchmark's clients reach this server: loopback, no direct-call listener, patient with a loaded machine.</summary>
    public Client.ParleyClientOptions ClientOptions(IPAddress? local = null) => new()
    {
        Host = UdpEndPoint.Address.ToString(),
        Port = UdpEndPoint.Port,
        ListenPort = -1,
        LocalAddress = local,
        UdpTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>The executable started when the command line names none: the <c>parley</c> built beside this tool.</summary>
    public static string DefaultExecutable => Path.Combine(AppContext.BaseDirectory, "parley");

    /// <summary>
    /// Makes <paramref name="users"/> in a new data directory, then starts the server on it. The users' verifiers use
    /// RFC 7677's minimum of 4,096 PBKDF2 iterations, so that making 20,000 of them takes seconds, not hours; log-on
    /// cost on the server does not depend on the count (it checks a proof, it never runs PBKDF2).
    /// <paramref name="prepare"/> may write more into the database (history) before the server opens it.
    /// </summary>
    public static async Task<ParleyServerHost> StartAsync(string executable, IReadOnlyList<string> users, IEnumerable<string> extraArguments,
        Func<ParleyDatabase, Task>? prepare, CancellationToken cancellationToken)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("parley-bench-").FullName;
        try
        {
            await PrepareAsync(dataDirectory, users, prepare).ConfigureAwait(false);
            return await LaunchAsync(executable, dataDirectory, extraArguments, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Directory.Delete(dataDirectory, recursive: true);
            throw;
        }
    }

    private static async Task PrepareAsync(string dataDirectory, IReadOnlyList<string> users, Func<ParleyDatabase, Task>? prepare)
    {
        var database = ParleyDatabase.Open(dataDirectory);
        var store = new UserStore(database);
        var verifiers = new ScramVerifier[users.Count];
        Parallel.For(0, users.Count, i => verifiers[i] = Scram.CreateVerifier(Password, Scram.MinimumIterations));
        for (var i = 0; i < users.Count; i++)
        {
            if (!store.TryAdd(users[i], verifiers[i]))
            {
                throw new InvalidOperationException($"Could not add the benchmark user {users[i]}.");
            }
        }

        if (prepare is not null)
        {
            await prepare(database).ConfigureAwait(false);
        }

        // The pooled connections would keep the files open in this process for the rest of the run.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private static async Task<ParleyServerHost> LaunchAsync(string executable, string dataDirectory, IEnumerable<string> extraArguments,
        CancellationToken cancellationToken)
    {
        // The server's limits are raised to what the workload needs (every log-on comes from a few loopback
        // addresses, a relay sender outruns any person's message rate, a log-on storm keeps many connections owing
        // CONNECT); everything else, the history batch size and the queues among it, stays at its default.
        string[] arguments = ["server", "--data-dir", dataDirectory, "--address", "127.0.0.1", "--port", "0", "--console", "off",
            "--admin-socket", "none", "--log-level", "warning", "--max-connections", "30000", "--hello-rate", "100000000",
            "--max-handshakes-per-address", "100000", "--max-pending-handshakes", "100000", "--scram-iterations", "4096",
            "--message-rate", "1000000", "--message-burst", "1000000", "--max-unauthenticated", "30000",
            "--max-unauthenticated-per-address", "30000", .. extraArguments];
        var info = CpuPinning.StartInfo(executable, arguments);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;

        // No user configuration file may change what is measured.
        info.Environment["XDG_CONFIG_HOME"] = Path.Combine(dataDirectory, "config");
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {executable}.");
        var errors = new OutputTail(20);
        process.ErrorDataReceived += (_, e) => errors.Add(e.Data);
        process.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token).ConfigureAwait(false) is { } line)
            {
                if (ReadyLine().Match(line) is { Success: true } ready)
                {
                    _ = DrainAsync(process.StandardOutput);
                    return new ParleyServerHost(process, dataDirectory, IPEndPoint.Parse(ready.Groups[1].Value));
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Not ready in time: reported below with what it said.
        }
        catch
        {
            // The run was cancelled: the server must not outlive it.
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        process.Kill();
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        throw new InvalidOperationException($"The server did not start: {errors}".TrimEnd());
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // The data directory is thrown away next, so a hard stop loses nothing anyone will read.
            _process.Kill();
        }

        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        _process.Dispose();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private static async Task DrainAsync(StreamReader output)
    {
        while (await output.ReadLineAsync().ConfigureAwait(false) is not null)
        {
        }
    }

    [GeneratedRegex(@"^Parley server listening on udp (\S+) and tcp \S+;")]
    private static partial Regex ReadyLine();
}

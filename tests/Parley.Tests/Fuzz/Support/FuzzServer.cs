using Microsoft.Extensions.Logging;
using Parley.Client;
using Parley.Protocol.Security;
using Parley.Storage;
using Parley.Tests.Support;
using Xunit.Abstractions;

namespace Parley.Tests.Fuzz.Support;

/// <summary>
/// An in-process server for the live fuzz tests, and users to log on as. The per-address log-on limits and the
/// lockout are raised so that hostile datagrams and failed log-ons reach the handlers behind them rather than the
/// limits (which UdpBadInputTests and LockoutTests cover); everything else keeps its default.
/// </summary>
internal sealed class FuzzServer : IAsyncDisposable
{
    public const string Password = "fuzz-password";

    private readonly ScramVerifier _verifier = Scram.CreateVerifier(Password, InProcessServer.FastIterations);
    private readonly UserStore _users;
    private int _next;

    private FuzzServer(InProcessServer server)
    {
        Server = server;
        _users = new UserStore(server.Database);
    }

    public InProcessServer Server { get; }

    /// <summary>One password key for every fuzz user: they share a verifier, so PBKDF2 runs once per run, not per log-on.</summary>
    public PasswordKey Key { get; } = new(Password);

    /// <summary>Errors the server logged so far (any is a failure: a handler threw).</summary>
    public int ErrorCount => Server.Logs.Errors.Count();

    public static async Task<FuzzServer> StartAsync() =>
        new(await InProcessServer.StartAsync(o => o with
        {
            HellosPerMinutePerAddress = 1_000_000,
            SignUpsPerHourPerAddress = 1_000_000,
            MaxPendingHandshakesPerAddress = 1_000_000,
            MaxPendingHandshakes = 1_000_000,
            LockoutThreshold = 1_000_000,
        }, minimumLevel: LogLevel.Warning)); // errors still fail the run; a long run need not keep every refusal's line

    /// <summary>A new user with the shared password; a fresh one per case keeps its history (and HISTORY_REQ) small.</summary>
    public string NewUser(string prefix)
    {
        var id = $"{prefix}{Interlocked.Increment(ref _next)}";
        Assert.True(_users.TryAdd(id, _verifier));
        return id;
    }

    /// <summary>The UDP phase with the real client code, without connecting over TCP.</summary>
    public async Task<LogOnTicket> AuthenticateAsync(string clientId)
    {
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        return await UdpLogOn.RunAsync(Server.ClientOptions, clientId, Key, timeout.Token);
    }

    /// <summary>A genuine client's whole log-on and log-off still works.</summary>
    public async Task AssertGenuineLogOnAsync()
    {
        var id = NewUser("genuine");
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        var connection = await ParleyConnection.LogOnAsync(Server.ClientOptions, id, Key, timeout.Token);
        await connection.ExpectNothingPendingAsync();
        await connection.LogOffAsync();
    }

    /// <summary>Every 50th case (and when <paramref name="now"/>): no server error so far, and a genuine client still logs on.</summary>
    public async Task CheckAsync(int index, List<string> failures, bool now = false)
    {
        if (index % 50 != 49 && !now)
        {
            return;
        }

        if (ErrorCount > 0)
        {
            failures.Add($"by case {index} the server logged an error: {Server.Logs.Errors.First()}");
        }

        await AssertGenuineLogOnAsync();
    }

    /// <summary>The end of a live run: the last checks, the chatting pair's count, the report; fails if any case failed.</summary>
    public async Task FinishAsync(ChatterPair pair, ITestOutputHelper output, string name, int tried, List<string> failures)
    {
        await CheckAsync(tried, failures, now: true);
        var chatted = await pair.StopAsync();
        output.WriteLine($"the chatting pair exchanged {chatted} messages during the run, none lost");
        FuzzRun.Report(output, name, tried, failures);
        FuzzRun.AssertNoFailures(failures);
    }

    public async ValueTask DisposeAsync()
    {
        Key.Dispose();
        await Server.DisposeAsync();
    }
}

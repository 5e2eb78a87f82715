using Microsoft.Extensions.Logging;
using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Server;
using Parley.Server.Hosting;
using Parley.Storage;

namespace Parley.Tests.Support;

/// <summary>
/// A real server in this process on loopback port 0 (UDP and TCP), with its own temporary database. Disposing it
/// fails the test if the server logged an error.
/// </summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    public const int FastIterations = Scram.MinimumIterations;
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private InProcessServer(ParleyServer server, ParleyServerOptions options, CollectingLoggerProvider logs)
    {
        Server = server;
        Options = options;
        Logs = logs;
        Database = ParleyDatabase.Open(options.DataDirectory);
    }

    public ParleyServer Server { get; private set; }

    public ParleyServerOptions Options { get; }

    public CollectingLoggerProvider Logs { get; }

    public ParleyDatabase Database { get; }

    /// <summary>Server errors a test provokes on purpose (by their text); any other error still fails the test.</summary>
    public List<string> ExpectedErrors { get; } = [];

    public ParleyClientOptions ClientOptions => new() { Host = "127.0.0.1", Port = Server.UdpEndPoint.Port };

    /// <summary><paramref name="minimumLevel"/> applies to every category, Microsoft.* (Kestrel, hosting) included.</summary>
    public static async Task<InProcessServer> StartAsync(Func<ParleyServerOptions, ParleyServerOptions>? configure = null, TimeProvider? time = null,
        LogLevel minimumLevel = LogLevel.Debug)
    {
        var options = new ParleyServerOptions
        {
            DataDirectory = Directory.CreateTempSubdirectory("parley-test-").FullName,
            UdpPort = 0,
            TcpPort = 0,
            ScramIterations = FastIterations,
        };
        options = configure?.Invoke(options) ?? options;
        var logs = new CollectingLoggerProvider();
        var server = await ParleyServer.StartAsync(options, b => b.AddProvider(logs).SetMinimumLevel(minimumLevel), time ?? TimeProvider.System, CancellationToken.None);
        return new InProcessServer(server, options, logs);
    }

    public void AddUser(string clientId, string password) =>
        Assert.True(new UserStore(Database).TryAdd(clientId, Scram.CreateVerifier(password, FastIterations)));

    /// <summary>Adds <paramref name="clientId"/> with the password "pw" and logs it on.</summary>
    public async Task<ParleyConnection> AddAndLogOnAsync(string clientId)
    {
        AddUser(clientId, "pw");
        return await LogOnAsync(clientId, "pw");
    }

    public Task<ParleyConnection> LogOnAsync(string clientId, string password) =>
        ParleyConnection.LogOnAsync(ClientOptions, clientId, password, new CancellationTokenSource(Timeout).Token);

    /// <summary>Stops and starts the server on the same database (new ports), as a restart would.</summary>
    public async Task RestartAsync()
    {
        await Server.DisposeAsync();
        Server = await ParleyServer.StartAsync(Options, b => b.AddProvider(Logs), TimeProvider.System, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Assert.DoesNotContain(Logs.Errors, e => !ExpectedErrors.Any(expected => e.Contains(expected, StringComparison.Ordinal)));
        try
        {
            Directory.Delete(Options.DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A pooled SQLite handle may still hold the file for a moment; the OS temp cleaner gets it.
        }
    }
}

/// <summary>Waiting for what a connected client receives, in order, with a timeout instead of sleeps.</summary>
internal static class ConnectionExpectations
{
    /// <summary>The next message must be a <typeparamref name="T"/>.</summary>
    public static async Task<T> ExpectAsync<T>(this ParleyConnection connection)
        where T : ParleyMessage
    {
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        var message = await connection.Events.ReadAsync(timeout.Token);
        return Assert.IsType<T>(message);
    }

    /// <summary>CHAT_REQUEST from <paramref name="from"/> to <paramref name="peerId"/>; both get CHAT_STARTED. Returns the session ID.</summary>
    public static async Task<string> StartChatWithAsync(this ParleyConnection from, ParleyConnection to, string peerId)
    {
        await from.SendAsync(new ChatRequest(peerId));
        var atFrom = await from.ExpectAsync<ChatStarted>();
        var atTo = await to.ExpectAsync<ChatStarted>();
        Assert.Equal(atFrom.SessionId, atTo.SessionId);
        return atFrom.SessionId;
    }

    /// <summary>The connection must end (after any messages, which are returned).</summary>
    public static async Task<List<ParleyMessage>> ExpectClosedAsync(this ParleyConnection connection)
    {
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        var rest = new List<ParleyMessage>();
        await foreach (var m in connection.Events.ReadAllAsync(timeout.Token))
        {
            rest.Add(m);
        }

        return rest;
    }

    /// <summary>
    /// Sends up to <paramref name="count"/> 4000-byte CHATs into <paramref name="sessionId"/> in the background, as fast as
    /// the link takes them, until <paramref name="stop"/>; for filling a peer that stopped reading. The task never faults:
    /// a flood ends when it is stopped or the link closes.
    /// </summary>
    public static Task FloodAsync(this ParleyConnection connection, string sessionId, int count, CancellationToken stop) =>
        Task.Run(async () =>
        {
            var body = new string('x', 4000);
            for (var i = 0; i < count && !stop.IsCancellationRequested; i++)
            {
                await connection.SendAsync(new Chat(sessionId, body), stop);
            }
        }, CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);

    /// <summary>Proves nothing else is queued for us: the server answers a HISTORY_REQ after everything queued before it (PONGs are not surfaced).</summary>
    public static async Task ExpectNothingPendingAsync(this ParleyConnection connection)
    {
        await connection.SendAsync(new HistoryReq("nobody-at-all"));
        var end = await connection.ExpectAsync<HistoryEnd>();
        Assert.Equal("nobody-at-all", end.ClientId);
    }
}

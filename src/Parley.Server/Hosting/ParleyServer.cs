using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Protocol.Security;
using Parley.Server.Accounts;
using Parley.Server.Authentication;
using Parley.Server.Connections;
using Parley.Server.Routing;
using Parley.Storage;

namespace Parley.Server.Hosting;

/// <summary>
/// Composes the server: the SQLite store and its history writer, the UDP handshake listener, Kestrel hosting
/// <see cref="ChatConnectionHandler"/> on the TCP port, and a maintenance loop that expires challenges, cookies
/// and idle clients. Used by <c>parley server</c> and, in-process, by the integration tests.
/// </summary>
public sealed class ParleyServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly UdpAuthListener _udp;
    private readonly HistoryWriter _history;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _maintenance;
    private readonly ILogger _logger;
    private readonly ParleyServerOptions _options;
    private readonly ServerLifetime _lifetime;
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposing;

    private ParleyServer(WebApplication app, UdpAuthListener udp, HistoryWriter history, IPEndPoint tcp, ILogger logger)
    {
        _app = app;
        _udp = udp;
        _history = history;
        _logger = logger;
        _options = app.Services.GetRequiredService<ParleyServerOptions>();
        _lifetime = app.Services.GetRequiredService<ServerLifetime>();
        TcpEndPoint = tcp;
        _maintenance = MaintainAsync();
    }

    public IPEndPoint UdpEndPoint => _udp.LocalEndPoint;

    public IPEndPoint TcpEndPoint { get; }

    /// <summary>Where <c>/metrics</c> and <c>/healthz</c> answer (always 127.0.0.1); null when <see cref="ParleyServerOptions.MetricsPort"/> is.</summary>
    public IPEndPoint? MetricsEndPoint { get; private init; }

    /// <summary>This server's instruments, for tests that listen to its meter.</summary>
    internal ServerMetrics Metrics => _app.Services.GetRequiredService<ServerMetrics>();

    /// <summary>Tests look at who is online, and at their queues, through the router.</summary>
    internal ChatRouter Router => _app.Services.GetRequiredService<ChatRouter>();

    public static Task<ParleyServer> StartAsync(ParleyServerOptions options, Action<ILoggingBuilder> configureLogging,
        CancellationToken cancellationToken = default) =>
        StartAsync(options, configureLogging, TimeProvider.System, cancellationToken);

    /// <summary>Tests pass a manual <paramref name="time"/> to expire challenges and cookies without waiting.</summary>
    internal static async Task<ParleyServer> StartAsync(ParleyServerOptions options, Action<ILoggingBuilder> configureLogging,
        TimeProvider time, CancellationToken cancellationToken)
    {
        options.Validate();
        var adminSocket = options.AdminSocketPath is { } path ? Operations.AdminSocket.Prepare(path) : null; // before anything is opened
        var database = ParleyDatabase.Open(options.DataDirectory);
        var history = new HistoryWriter(database, options.HistoryQueueCapacity, options.HistoryBatchSize);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        configureLogging(builder.Logging);
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, HostedLifetime>();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton(history);
        builder.Services.AddSingleton(new UserStore(database));
        builder.Services.AddSingleton(new LockoutStore(database));
        builder.Services.AddSingleton(new InviteStore(database));
        builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<SignUpService>(sp,
            EcdhKey.ImportPkcs8(database.GetOrCreateSignUpKey(static () => { using var key = new EcdhKey(); return key.ExportPkcs8(); }))));
        builder.Services.AddSingleton<RefusalLog>();
        builder.Services.AddSingleton<AccountService>();
        builder.Services.AddSingleton(new MessageStore(database));
        builder.Services.AddSingleton(new KeyStore(database));
        builder.Services.AddSingleton<KeyDirectory>();
        builder.Services.AddSingleton(sp => new CookieJar(sp.GetRequiredService<TimeProvider>(), options.CookieLifetime));
        builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<HandshakeService>(sp, database.GetOrCreateServerSecret()));
        builder.Services.AddSingleton<ChatRouter>();
        builder.Services.AddSingleton<Messaging.DirectMessages>();
        builder.Services.AddSingleton<Messaging.RoomRegistry>();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<ServerMetrics>();
        builder.Services.AddSingleton(sp => new PrometheusExporter(sp.GetRequiredService<ServerMetrics>().Meter));
        Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? metricsListen = null;
        builder.Services.AddSingleton<ServerLifetime>();
        builder.Services.AddSingleton<Operations.OperatorCommands>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxConcurrentConnections = options.MaxConnections;
            kestrel.Listen(options.Address, options.TcpPort, listen => listen.UseConnectionHandler<ChatConnectionHandler>());
            metricsListen = options.MetricsPort is { } metricsPort ? MetricsEndpoint.Listen(kestrel, metricsPort) : null;
            if (adminSocket is not null)
            {
                kestrel.ListenUnixSocket(adminSocket, listen => listen.UseConnectionHandler<Operations.AdminConnectionHandler>());
            }
        });
        var app = builder.Build();
        app.Services.GetRequiredService<ServerMetrics>().Observe(app.Services.GetRequiredService<ChatRouter>());
        if (options.MetricsPort is not null)
        {
            MetricsEndpoint.Map(app);
        }

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        if (adminSocket is not null)
        {
            // Only the server's user (and root) may connect: the socket's mode is its access control. The data
            // directory is 0700 too (ParleyDatabase), which covers the moment between bind and this call there.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(adminSocket, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var tcp = new IPEndPoint(options.Address, new Uri(address).Port);
        var handshakes = app.Services.GetRequiredService<HandshakeService>();
        handshakes.TcpPort = options.AdvertisedTcpPort is > 0 and var advertised ? advertised : tcp.Port;

        // Before the first HELLO: sets the fake-challenge iteration count from the stored users.
        app.Services.GetRequiredService<AccountService>().CheckForChanges();
        UdpAuthListener udp;
        try
        {
            udp = new UdpAuthListener(new IPEndPoint(options.Address, options.UdpPort), handshakes, options.MaxDatagramBytes,
                app.Services.GetRequiredService<RefusalLog>(),
                app.Services.GetRequiredService<ILogger<UdpAuthListener>>());
        }
        catch
        {
            // The UDP port is taken (or similar): undo the half-started server rather than leave TCP listening.
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            await history.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.Server");
        return new ParleyServer(app, udp, history, tcp, logger) { MetricsEndPoint = metricsListen?.IPEndPoint };
    }

    /// <summary>Completes with the reason when an operator types TERMINATE (console or <c>parley admin</c>).</summary>
    public Task<string> StopRequested => _lifetime.StopRequested;

    /// <summary>Records why the host is about to stop the server (a signal's name), for the shutdown log line.</summary>
    public void RequestStop(string reason) => _lifetime.RequestStop(reason);

    /// <summary>Runs one operator command (issue #7): what the console and <c>parley admin</c> both call.</summary>
    public Operations.OperatorReply Execute(string commandLine, string source) =>
        _app.Services.GetRequiredService<Operations.OperatorCommands>().Execute(commandLine, source);

    /// <summary>
    /// Graceful shutdown (issue #7), bounded by <see cref="ParleyServerOptions.ShutdownTimeout"/>: no new log-ons;
    /// requests in hand finish (for half the time, then they are abandoned); sessions end with END_NOTIF behind the last
    /// commits (until three quarters, then without it); every client is told SHUTTING_DOWN and its queue is flushed
    /// (until nine tenths, then connections are aborted); queued history is committed (until the end). So a stuck
    /// client or a stuck disk costs its own step only, and every client is still told. A second call waits for the first.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposing, 1) == 1)
        {
            await _disposed.Task.ConfigureAwait(false);
            return;
        }

        try
        {
            await ShutDownAsync().ConfigureAwait(false);
        }
        finally
        {
            _disposed.TrySetResult();
        }
    }

    private async Task ShutDownAsync()
    {
        var timeout = _options.ShutdownTimeout;
        using var drain = new CancellationTokenSource(timeout / 2);
        using var sessions = new CancellationTokenSource(timeout * 0.75);
        using var connections = new CancellationTokenSource(timeout * 0.9);
        using var deadline = new CancellationTokenSource(timeout);
        _lifetime.BeginStopping();
        var router = _app.Services.GetRequiredService<ChatRouter>();
        _logger.LogInformation("Shutting down ({Reason}): {Clients} clients online",
            _lifetime.StopRequested.IsCompleted ? _lifetime.StopRequested.Result : "disposed", router.Snapshot().Length);
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            // A maintenance pass may be inside a database call that waits for a lock; it must not hold the shutdown.
            await _maintenance.WaitAsync(drain.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("Shutdown: a maintenance pass was still waiting for the database");
        }

        await _udp.DisposeAsync().ConfigureAwait(false);
        await router.ShutdownAsync(drain.Token, sessions.Token).ConfigureAwait(false);

        // Kestrel stops listening, asks connections still open (those that never sent CONNECT, or joined late, and
        // admin connections) to close, waits for every connection to flush its last words, and aborts the rest.
        await _app.StopAsync(connections.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        try
        {
            // Normally empty by now (the drain waited for every commit); a stuck disk must not hold the exit.
            await _history.DisposeAsync().AsTask().WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("Shutdown: history was still being committed at the deadline; unacknowledged messages may be lost");
        }

        if (_options.AdminSocketPath is { } socket)
        {
            Operations.AdminSocket.TryDelete(socket);
        }

        _stopping.Dispose();
        _logger.LogInformation("Shut down");
    }

    private async Task MaintainAsync()
    {
        var options = _app.Services.GetRequiredService<ParleyServerOptions>();
        var handshakes = _app.Services.GetRequiredService<HandshakeService>();
        var cookies = _app.Services.GetRequiredService<CookieJar>();
        var router = _app.Services.GetRequiredService<ChatRouter>();
        var accounts = _app.Services.GetRequiredService<AccountService>();
        var lockouts = _app.Services.GetRequiredService<LockoutStore>();
        var time = _app.Services.GetRequiredService<TimeProvider>();
        var lastPrune = long.MinValue;

        // Tick at a quarter of the shortest timeout (at most once a second) so a bound is enforced within 25% of it.
        var shortest = new[] { options.ActivityTimeout, options.KeepAliveInterval, options.CookieLifetime, options.ChallengeTimeout, TimeSpan.FromSeconds(4) }.Min();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(50, shortest.TotalMilliseconds / 4)));
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    handshakes.RemoveExpired();
                    cookies.RemoveExpired();
                    accounts.CheckForChanges();
                    if (lastPrune == long.MinValue || time.GetElapsedTime(lastPrune) > TimeSpan.FromHours(1))
                    {
                        // Failure records of unlocked IDs are forgotten after a day: long enough to keep locks growing.
                        lockouts.Prune(time.GetUtcNow(), TimeSpan.FromDays(1));
                        lastPrune = time.GetTimestamp();
                    }
                    var now = Environment.TickCount64;
                    foreach (var client in router.Snapshot())
                    {
                        client.CheckIdle(now);
                    }
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "Maintenance pass failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}

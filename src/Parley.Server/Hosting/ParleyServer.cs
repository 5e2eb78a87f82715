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

    private ParleyServer(WebApplication app, UdpAuthListener udp, HistoryWriter history, IPEndPoint tcp, ILogger logger)
    {
        _app = app;
        _udp = udp;
        _history = history;
        _logger = logger;
        TcpEndPoint = tcp;
        _maintenance = MaintainAsync();
    }

    public IPEndPoint UdpEndPoint => _udp.LocalEndPoint;

    public IPEndPoint TcpEndPoint { get; }

    public static Task<ParleyServer> StartAsync(ParleyServerOptions options, Action<ILoggingBuilder> configureLogging,
        CancellationToken cancellationToken = default) =>
        StartAsync(options, configureLogging, TimeProvider.System, cancellationToken);

    /// <summary>Tests pass a manual <paramref name="time"/> to expire challenges and cookies without waiting.</summary>
    internal static async Task<ParleyServer> StartAsync(ParleyServerOptions options, Action<ILoggingBuilder> configureLogging,
        TimeProvider time, CancellationToken cancellationToken)
    {
        options.Validate();
        var database = ParleyDatabase.Open(options.DataDirectory);
        var history = new HistoryWriter(database, options.HistoryQueueCapacity, options.HistoryBatchSize);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        configureLogging(builder.Logging);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton(history);
        builder.Services.AddSingleton(new UserStore(database));
        builder.Services.AddSingleton(new LockoutStore(database));
        builder.Services.AddSingleton(new InviteStore(database));
        builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<SignUpService>(sp,
            EcdhKey.ImportPkcs8(database.GetOrCreateSignUpKey(static () => { using var key = new EcdhKey(); return key.ExportPkcs8(); }))));
        builder.Services.AddSingleton<AccountService>();
        builder.Services.AddSingleton(new MessageStore(database));
        builder.Services.AddSingleton(new KeyStore(database));
        builder.Services.AddSingleton<KeyDirectory>();
        builder.Services.AddSingleton(sp => new CookieJar(sp.GetRequiredService<TimeProvider>(), options.CookieLifetime));
        builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<HandshakeService>(sp, database.GetOrCreateServerSecret()));
        builder.Services.AddSingleton<ChatRouter>();
        builder.Services.AddSingleton<Messaging.DirectMessages>();
        builder.Services.AddSingleton<Messaging.RoomRegistry>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxConcurrentConnections = options.MaxConnections;
            kestrel.Listen(options.Address, options.TcpPort, listen => listen.UseConnectionHandler<ChatConnectionHandler>());
        });
        var app = builder.Build();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

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
        return new ParleyServer(app, udp, history, tcp, logger);
    }

    /// <summary>Stops listening, disconnects every client, commits queued history, then returns.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _maintenance.ConfigureAwait(false);
        await _udp.DisposeAsync().ConfigureAwait(false);

        // Kestrel's stop asks every connection to close; each ClientConnection answers with SHUTTING_DOWN itself.
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _history.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
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

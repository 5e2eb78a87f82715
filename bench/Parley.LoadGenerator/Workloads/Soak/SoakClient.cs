using System.Diagnostics;
using System.Net.Sockets;
using Parley.Client;
using Parley.LoadGenerator.Hosting;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security.EndToEnd;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>
/// One soak user: its password (changed now and then by PASSWD), its identity key, and an actor that sends about
/// <see cref="SoakParameters.Rate"/> messages a second, drawn from a mix seeded with the run's seed and its index,
/// logging off and on again as it goes. Each log-on is a <see cref="SoakLink"/>.
/// </summary>
internal sealed partial class SoakClient : IDisposable
{
    private readonly SoakWorld _world;
    private readonly Random _random;
    private readonly IdentityKey _identity;
    private KeysPut? _keysPut;
    private string _password = ParleyServerHost.Password;
    private PasswordKey _key = new(ParleyServerHost.Password);
    private int _passwordChanges;
    private volatile bool _published;
    private SoakLink? _link;
    private long _offlineUntil;
    private long _dmIds;
    private long _says;

    public SoakClient(SoakWorld world, int index)
    {
        _world = world;
        Index = index;
        // The mix is a function of the seed and the index; what the server makes of it depends on timing too.
#pragma warning disable CA5394 // a load mix, not a secret: it must repeat for a given seed
        _random = new Random(unchecked(world.Parameters.Seed * 7919 + index));
#pragma warning restore CA5394
        _identity = IdentityKey.Create();
    }

    public int Index { get; }

    public string Id => _world.Ids[Index];

    /// <summary>The port its LISTEN announces (§13.2). Nothing listens there: the soak makes no direct calls, only the lookups.</summary>
    public int ListenPort => 40_000 + Index;

    public string Fingerprint => _identity.Public.Fingerprint;

    /// <summary>Its identity key is in the directory (KEYS_OK has arrived).</summary>
    public bool Published => _published;

    public SoakLink? Link => _link;

    /// <summary>Seals the identity key's backup (§12.2) before the clock starts: one PBKDF2 of 600,000 iterations.</summary>
    public async Task PrepareAsync()
    {
        var backup = await Task.Run(() => KeyBackup.Seal(_identity, Id, _password)).ConfigureAwait(false);
        _keysPut = new KeysPut(_identity.Public.AgreeKeyBase64, _identity.Public.SignKeyBase64, _identity.SignBundle(Id), ToWire(backup));
    }

    /// <summary>The actor: one step per tick of the client's rate until <paramref name="stop"/>; a step runs to its end, bounded by <paramref name="abort"/>.</summary>
    public async Task RunAsync(CancellationToken stop, CancellationToken abort)
    {
        var interval = (long)(Stopwatch.Frequency / _world.Parameters.Rate);
        var next = Stopwatch.GetTimestamp();
        while (!stop.IsCancellationRequested)
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            // A step that took long (a log-on, a session's end) is not made up for with a burst: the pace stays a soak's.
            next = Math.Max(next + interval, Stopwatch.GetTimestamp() - interval);
            await StepAsync(abort).ConfigureAwait(false);
        }
    }

    private async Task StepAsync(CancellationToken abort)
    {
        try
        {
            if (_link is not { IsOpen: true } link)
            {
                if (_link is not null)
                {
                    // The server closed it: the reader counted that. Let its last messages be accounted for, then log on again.
                    await _link.Completion.ConfigureAwait(false);
                    _link = null;
                    _offlineUntil = Environment.TickCount64 + 1000;
                }
                else if (Environment.TickCount64 >= _offlineUntil)
                {
                    await LogOnAsync(abort).ConfigureAwait(false);
                }

                return;
            }

            if (_world.Board.PendingCross(Index) is { } crossing)
            {
                await EndSessionAsync(link, crossing, abort).ConfigureAwait(false);
                return;
            }

            await ActAsync(link, abort).ConfigureAwait(false);
        }
        catch (Exception e) when (SoakLink.IsLinkFailure(e) && _link is { IsOpen: false })
        {
            // The link ended under the step; the reader recorded why.
        }
        catch (Exception e) when (e is not OperationCanceledException || !abort.IsCancellationRequested)
        {
            _world.Counters.ExceptionThrown(Id, "a step", e);
        }
    }

    /// <summary>
    /// Logs on (the UDP handshake with the cached password key, then CONNECT), publishes the identity key the first
    /// time, announces the call port, joins <c>#lobby</c> as the reference client does, and opens the conversation
    /// with everyone CONNECTED lists as having unread DMs (§11.6), which reads them (§11.5).
    /// </summary>
    private async Task LogOnAsync(CancellationToken abort)
    {
        ParleyConnection connection;
        try
        {
            connection = await ParleyConnection.LogOnAsync(_world.Options, Id, _key, abort).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ParleyClientException or IOException or SocketException or TimeoutException)
        {
            _world.Counters.ExceptionThrown(Id, "log-on", e);
            _offlineUntil = Environment.TickCount64 + 1000;
            return;
        }

        _world.Counters.LoggedOn();
        var link = new SoakLink(_world, Index, connection);
        link.Start();
        _link = link;
        _world.Online[Index] = true;
        _world.Board.Returned(Index);
        if (!_published)
        {
            var keys = await connection.GetKeysAsync(Id, abort).ConfigureAwait(false);
            _world.Counters.Counted(SoakKind.KeysGet);
            if (keys.Current != Fingerprint)
            {
                await connection.PublishKeysAsync(_keysPut!, abort).ConfigureAwait(false);
                _world.Counters.Counted(SoakKind.KeysPut);
            }

            _published = true;
        }

        await link.SendAsync(SoakKind.Listen, new Listen(ListenPort), abort).ConfigureAwait(false);
        await link.JoinAsync(Rooms.Default, cancellationToken: abort).ConfigureAwait(false);
        foreach (var unread in connection.Unread)
        {
            await TalkAsync(link, unread.From, Math.Max(50, unread.Count), wait: false, abort).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Logs off cleanly: ends its session first (stopping both sides' CHATs and waiting for the peer's last ones, so
    /// the peer gets END_NOTIF <c>peer_left</c> with nothing in flight), waits for its DMs' DM_SENT, and asks ROOMS so
    /// that every room message relayed to it so far has arrived. False if it cannot leave now (a request pending).
    /// </summary>
    private async Task<bool> LogOffAsync(SoakLink link, CancellationToken abort)
    {
        var session = _world.Board.Current(Index);
        if (session is not null ? !_world.Board.BeginEnd(Index, session, EndMode.LogOff) : !_world.Board.TryLeave(Index))
        {
            return false;
        }

        if (session is not null)
        {
            await WaitForPeerChatsAsync(session, abort).ConfigureAwait(false);
        }

        await LeaveAsync(link, abort).ConfigureAwait(false);
        if (session is not null)
        {
            _world.Board.Released(Index, session);
        }

        var offline = _world.Parameters.MinOffline + (_world.Parameters.MaxOffline - _world.Parameters.MinOffline) * _random.NextDouble();
        _offlineUntil = Environment.TickCount64 + (long)offline.TotalMilliseconds;
        return true;
    }

    /// <summary>The last requests of a log-on and LOG_OFF itself; the caller has settled any session.</summary>
    private async Task LeaveAsync(SoakLink link, CancellationToken abort)
    {
        if (!await link.WaitForDmsSentAsync(abort).ConfigureAwait(false))
        {
            _world.Counters.CheckFailed(Id, "DM_SENT missing at log-off", $"after {SoakParameters.ReplyTimeout.TotalSeconds:0} s");
        }

        var leaving = SoakClock.Now;
        await link.RoomsAsync(wait: true, abort).ConfigureAwait(false);
        _world.Rooms.Left(Index, null, leaving);
        _world.Online[Index] = false;
        await link.LogOffAsync().ConfigureAwait(false);
        _link = null;
    }

    /// <summary>Ends <paramref name="session"/>, which this client has begun ending (or follows into crossing END_REQUESTs).</summary>
    private async Task EndSessionAsync(SoakLink link, SoakSession session, CancellationToken abort)
    {
        await WaitForPeerChatsAsync(session, abort).ConfigureAwait(false);
        await link.SendAsync(SoakKind.EndRequest, new EndRequest(session.Id), abort).ConfigureAwait(false);
        _world.Board.Released(Index, session);
    }

    private async Task WaitForPeerChatsAsync(SoakSession session, CancellationToken abort)
    {
        if (!await _world.Board.WaitForPeerChatsAsync(Index, session, SoakParameters.ReplyTimeout, abort).ConfigureAwait(false))
        {
            // Counted as lost at the end; the session ends anyway so the run goes on.
            _world.Counters.CheckFailed(Id, "peer's CHATs missing at the session's end", $"session {session.Id}");
        }
    }

    private async Task TalkAsync(SoakLink link, string peer, int limit, bool wait, CancellationToken abort) =>
        await link.RequestAsync<TalkEnd>(SoakKind.Talk, new Talk(peer, limit), new SoakLink.TalkState(peer), wait, abort).ConfigureAwait(false);

    private static KeyBackupInfo ToWire(SealedBackup backup) =>
        new(backup.Fingerprint, Convert.ToBase64String(backup.Salt), backup.Iterations, Convert.ToBase64String(backup.Box));

    public void Dispose()
    {
        _identity.Dispose();
        _key.Dispose();
    }
}

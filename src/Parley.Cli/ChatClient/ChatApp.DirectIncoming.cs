using System.Net;
using System.Net.Sockets;
using Parley.Client;
using Parley.Client.Direct;
using Parley.Client.EndToEnd;
using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.Cli.ChatClient;

/// <summary>
/// Direct calls coming in (issue #6; seed 000): the listener, its LISTEN to the server, and the destination's half of
/// the handshake, which runs beside the app's loop (at most <see cref="MaxHandshakes"/> at once) so that no remote
/// terminal can stall it. Calls going out and the call itself are in <c>ChatApp.Direct.cs</c>.
/// </summary>
internal sealed partial class ChatApp
{
    /// <summary>Incoming handshakes (answers and "busy" refusals) in progress at once; more connections are closed unanswered.</summary>
    private const int MaxHandshakes = 4;

    private TcpListener? _listener;
    private int _handshakes;
    private long _lastListen = Environment.TickCount64;

    /// <summary>After log-on: listen for direct calls and tell the server the port (LISTEN). Needs the identity key.</summary>
    private async Task StartListeningAsync(ParleyConnection connection)
    {
        if (options.ListenPort < 0 || _e2e is null)
        {
            return;
        }

        TcpListener? listener = null;
        try
        {
            try
            {
                listener = Listen(options.ListenPort);
            }
            catch (SocketException) when (options.ListenPort != 0)
            {
                listener = Listen(0);
                console.WriteLine($"Port {options.ListenPort} is in use; direct calls reach you on port {((IPEndPoint)listener.LocalEndpoint).Port} instead.");
            }
        }
        catch (SocketException e)
        {
            console.WriteLine($"Direct calls to you are off: cannot listen for them ({e.SocketErrorCode}).");
            return;
        }

        _listener = listener;
        _lastListen = Environment.TickCount64;
        _ = PumpCallsAsync(connection, listener);
        await SendAsync(connection, new Listen(((IPEndPoint)listener.LocalEndpoint).Port)).ConfigureAwait(false);

        // On --source-address only; else on every address, IPv6 and IPv4 alike (TcpListener.Create is dual-mode).
        TcpListener Listen(int port)
        {
            var listening = options.LocalAddress is { } address ? new TcpListener(address, port) : TcpListener.Create(port);
            listening.Start();
            return listening;
        }
    }

    /// <summary>
    /// During a call the server hears nothing (seed 000: "the server is idle"), but a user talking is active: every
    /// half activity period the client repeats its LISTEN, which counts as activity, so the server does not log off
    /// someone in a call and the terminal "continues to listen" afterwards, as the seed says.
    /// </summary>
    private async Task KeepListeningAsync(ParleyConnection connection)
    {
        if (_listener is { } listener && Environment.TickCount64 - _lastListen > (long)connection.ActivityTimeout.TotalMilliseconds / 2)
        {
            _lastListen = Environment.TickCount64;
            await SendAsync(connection, new Listen(((IPEndPoint)listener.LocalEndpoint).Port)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// At log-off or when the link to the server ends: no more calls in. A call in progress goes on: it never
    /// needed the server (seed 000: "once the communication between terminals is established, the server is idle").
    /// </summary>
    private void StopListening()
    {
        _listener?.Stop();
        _listener = null;
    }

    private async Task PumpCallsAsync(ParleyConnection connection, TcpListener listener)
    {
        try
        {
            while (true)
            {
                var tcp = await listener.AcceptTcpClientAsync().ConfigureAwait(false);
                if (!_inbox.Writer.TryWrite(new IncomingCall(connection, tcp)))
                {
                    tcp.Dispose();
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped at log-off.
        }
    }

    /// <summary>
    /// A terminal connects. The handshake (each step bounded by <see cref="ParleyClientOptions.DirectTimeout"/>) runs beside the app's loop, which hears of it when it is done
    /// (<see cref="CallReady"/>, <see cref="CallNote"/>). Busy: seed 000's "busy". Past the cap: closed unanswered.
    /// </summary>
    private void OnIncomingCall(IncomingCall incoming)
    {
        if (_handshakes >= MaxHandshakes)
        {
            incoming.Tcp.Dispose();
            return;
        }

        _handshakes++;
        if (!ReferenceEquals(incoming.Connection, _connection) || _e2e is not { } e2e || _call is not null)
        {
            _ = RefuseBusyAsync(incoming.Tcp);
            return;
        }

        _ = AnswerAsync(incoming.Connection, e2e, incoming.Tcp);
    }

    private async Task RefuseBusyAsync(TcpClient tcp)
    {
        await DirectLink.RefuseAsync(tcp, ConnectRefusals.Busy, options, CancellationToken.None).ConfigureAwait(false);
        _inbox.Writer.TryWrite(new CallNote("Turned away an incoming direct call: you are busy."));
    }

    /// <summary>Beside the loop: the destination's half of the handshake; the outcome is posted back.</summary>
    private async Task AnswerAsync(ParleyConnection connection, EndToEndSession e2e, TcpClient tcp)
    {
        try
        {
            var link = await DirectLink.AnswerAsync(tcp, e2e, (initiator, from, ct) => CheckInitiatorAsync(connection, e2e, initiator, from, ct),
                options, CancellationToken.None).ConfigureAwait(false);
            if (!_inbox.Writer.TryWrite(new CallReady(link)))
            {
                await link.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is DirectCallException or IOException or SocketException or ParleyClientException or ObjectDisposedException)
        {
            _inbox.Writer.TryWrite(new CallNote(e.Message));
        }
    }

    /// <summary>
    /// Seed 000: "Bianca sends a Lookup Request to the server to verify Ali's IP address and Ali's encryption key."
    /// The address must be the one the initiator logged on from, and the key the one this user trusts for them. An
    /// initiator who is not logged on is refused as an address mismatch, so a stranger cannot learn who is online.
    /// </summary>
    private static async Task<InitiatorCheck> CheckInitiatorAsync(ParleyConnection connection, EndToEndSession e2e, string initiator, IPAddress from,
        CancellationToken cancellationToken)
    {
        var lookup = await connection.LookupAsync(initiator, cancellationToken).ConfigureAwait(false);
        if (lookup.Status != LookupStatus.Success || !ClientIds.Comparer.Equals(lookup.UserId, initiator)
            || !IPAddress.TryParse(lookup.Address, out var registered) || !registered.Equals(from))
        {
            return new InitiatorCheck(null, ConnectRefusals.AddressMismatch);
        }

        var contact = await e2e.ContactAsync(initiator, cancellationToken: cancellationToken).ConfigureAwait(false);
        return contact is { Trust: KeyTrust.Trusted or KeyTrust.Verified, Current: { } key } && key.Fingerprint == lookup.Fingerprint
            ? new InitiatorCheck(key, null)
            : new InitiatorCheck(null, ConnectRefusals.KeyNotTrusted);
    }

    /// <summary>A handshake beside the loop succeeded: the call starts, unless another one did meanwhile.</summary>
    private async Task OnCallReadyAsync(CallReady ready)
    {
        _handshakes--;
        if (_call is not null)
        {
            console.WriteLine($"Hung up on {ready.Link.PeerId}: you were already in a direct chat.");
            await ready.Link.DisposeAsync().ConfigureAwait(false);
            return;
        }

        Established(ready.Link, $"Connection received from user {ready.Link.PeerId}, type your messages");
    }

    private void OnCallNote(CallNote note)
    {
        _handshakes--;
        if (note.Text is { } text)
        {
            console.WriteLine(Display.Clean(text));
        }
    }

    private sealed record IncomingCall(ParleyConnection Connection, TcpClient Tcp);

    private sealed record CallReady(DirectLink Link);

    /// <summary>An incoming handshake ended without a call: what to tell the user.</summary>
    private sealed record CallNote(string? Text);
}

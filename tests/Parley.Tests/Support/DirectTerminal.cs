using System.Net;
using System.Net.Sockets;
using Parley.Client;
using Parley.Client.Direct;
using Parley.Client.EndToEnd;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Tests.Integration;

namespace Parley.Tests.Support;

/// <summary>
/// One user's terminal, as the app runs it: logged on from its own loopback address, its identity key unlocked, and
/// (unless <c>listen</c> is false) listening for direct calls with the port told to the server.
/// </summary>
internal sealed class DirectTerminal : IAsyncDisposable
{
    private DirectTerminal(ParleyConnection connection, EndToEndSession e2e, ParleyClientOptions options, TcpListener? listener)
    {
        Connection = connection;
        E2e = e2e;
        Options = options;
        Listener = listener;
    }

    public ParleyConnection Connection { get; }

    public EndToEndSession E2e { get; }

    public ParleyClientOptions Options { get; }

    public TcpListener? Listener { get; }

    public IPEndPoint EndPoint => (IPEndPoint)Listener!.LocalEndpoint;

    public int Port => EndPoint.Port;

    public static async Task<DirectTerminal> LogOnAsync(InProcessServer server, string clientId, string address, bool listen = true, string? password = null)
    {
        if (password is null)
        {
            password = "pw-" + clientId;
            server.AddUser(clientId, password);
        }

        var options = server.ClientOptions with { LocalAddress = IPAddress.Parse(address) };
        var connection = await ParleyConnection.LogOnAsync(options, clientId, password, DirectCallTests.Timeout());
        var e2e = await EndToEndSession.StartAsync(connection, password, ContactBook.InMemory(), DirectCallTests.Timeout());
        TcpListener? listener = null;
        if (listen)
        {
            listener = new TcpListener(options.LocalAddress, 0);
            listener.Start();
            await connection.ListenAsync(((IPEndPoint)listener.LocalEndpoint).Port, DirectCallTests.Timeout());

            // The server handles one client's messages in order: once its own lookup answers, its LISTEN is recorded.
            Assert.Equal(LookupStatus.Success, (await connection.LookupAsync(clientId, DirectCallTests.Timeout())).Status);
        }

        return new DirectTerminal(connection, e2e, options, listener);
    }

    /// <summary>What the app does for "/call peer": look the peer up, hold them to the key trusted for them, connect.</summary>
    public async Task<DirectLink> CallAsync(string peer, ParleyClientOptions? from = null)
    {
        var lookup = await Connection.LookupAsync(peer, DirectCallTests.Timeout());
        Assert.Equal(LookupStatus.Success, lookup.Status);
        var contact = await E2e.ContactAsync(lookup.UserId, cancellationToken: DirectCallTests.Timeout());
        Assert.Equal(lookup.Fingerprint, contact.Current?.Fingerprint);
        return await DirectLink.CallAsync(new IPEndPoint(IPAddress.Parse(lookup.Address), lookup.Port), E2e, contact.ClientId, contact.Current!,
            from ?? Options, DirectCallTests.Timeout());
    }

    /// <summary>Accepts the next connection and answers it with the app's check of the initiator.</summary>
    public async Task<DirectLink> AnswerAsync()
    {
        var tcp = await Listener!.AcceptTcpClientAsync(DirectCallTests.Timeout());
        return await DirectLink.AnswerAsync(tcp, E2e, CheckInitiatorAsync, Options, DirectCallTests.Timeout());
    }

    /// <summary>Accepts the next connection and turns it away with <paramref name="reason"/>, as the app does when busy.</summary>
    public async Task RefuseNextAsync(string reason) =>
        await DirectLink.RefuseAsync(await Listener!.AcceptTcpClientAsync(DirectCallTests.Timeout()), reason, Options, DirectCallTests.Timeout());

    public async ValueTask DisposeAsync()
    {
        Listener?.Stop();
        E2e.Dispose();
        await Connection.DisposeAsync();
    }

    /// <summary>
    /// As ChatApp.CheckInitiatorAsync: the initiator must be listed, at the address it connects from (one not listed is
    /// an address mismatch too, so a stranger cannot probe who is online), with the key this user trusts for it.
    /// </summary>
    private async Task<InitiatorCheck> CheckInitiatorAsync(string initiator, IPAddress from, CancellationToken cancellationToken)
    {
        var lookup = await Connection.LookupAsync(initiator, cancellationToken);
        if (lookup.Status != LookupStatus.Success || !ClientIds.Comparer.Equals(lookup.UserId, initiator)
            || !IPAddress.TryParse(lookup.Address, out var registered) || !registered.Equals(from))
        {
            return new InitiatorCheck(null, ConnectRefusals.AddressMismatch);
        }

        var contact = await E2e.ContactAsync(initiator, cancellationToken: cancellationToken);
        return contact is { Trust: KeyTrust.Trusted or KeyTrust.Verified, Current: { } key } && key.Fingerprint == lookup.Fingerprint
            ? new InitiatorCheck(key, null)
            : new InitiatorCheck(null, ConnectRefusals.KeyNotTrusted);
    }
}

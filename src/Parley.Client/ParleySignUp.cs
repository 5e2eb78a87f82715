using Parley.Protocol.Accounts;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Client;

/// <summary>
/// Creating an account from the client (issue #3; seed 002 "!signup", seed 003's new-user flow): SIGNUP_HELLO →
/// SIGNUP_INFO tells the policy, the server's sign-up key and the iteration count; SIGNUP carries the SCRAM verifier
/// sealed to that key (<see cref="SignUpBox"/>). The password never leaves this process. Retransmitted like a log-on.
/// </summary>
public static class ParleySignUp
{
    /// <summary>SIGNUP_HELLO is padded so the server's answer is within its 3× anti-amplification bound.</summary>
    private static readonly string Pad = new('.', 160);

    public static async Task<SignUpInfo> GetInfoAsync(ParleyClientOptions options, CancellationToken cancellationToken = default)
    {
        using var socket = await UdpLogOn.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        var info = (SignUpInfo)await UdpLogOn.ExchangeAsync(socket, options, new SignUpHello(Pad), r => r is SignUpInfo, cancellationToken).ConfigureAwait(false);
        if (!SignUpPolicies.IsKnown(info.Policy) || info.Iterations < Scram.MinimumIterations || info.Iterations > options.MaxIterations
            || info.MinPasswordLength is < 1 or > AccountRules.MaxPasswordLength)
        {
            throw new ParleyClientException(ClientFailure.Refused, "The server's SIGNUP_INFO is not one this client accepts (policy, iterations or password length out of range).");
        }

        return info;
    }

    /// <summary>Asks whether <paramref name="clientId"/> is free (003: "queries the server on whether user already exists").</summary>
    public static Task<SignUpOutcome> CheckAsync(ParleyClientOptions options, SignUpInfo info, string clientId, string? invite,
        CancellationToken cancellationToken = default) =>
        SendAsync(options, info, new SignUpForm(clientId, CheckOnly: true, invite), cancellationToken);

    /// <summary>Creates the account; the outcome's code says whether it was created or why not.</summary>
    public static Task<SignUpOutcome> SignUpAsync(ParleyClientOptions options, SignUpInfo info, string clientId, string password, string? invite,
        CancellationToken cancellationToken = default)
    {
        var verifier = Scram.CreateVerifier(password, info.Iterations);
        var form = new SignUpForm(clientId, CheckOnly: false, invite, Convert.ToBase64String(verifier.Salt), verifier.Iterations,
            Convert.ToBase64String(verifier.StoredKey), Convert.ToBase64String(verifier.ServerKey));
        return SendAsync(options, info, form, cancellationToken);
    }

    private static async Task<SignUpOutcome> SendAsync(ParleyClientOptions options, SignUpInfo info, SignUpForm form, CancellationToken cancellationToken)
    {
        using var ephemeral = new EcdhKey();
        var box = SignUpBox.ForClient(ephemeral, info.ServerKey)
            ?? throw new ParleyClientException(ClientFailure.Refused, "The server's sign-up key is not a valid P-256 key.");
        var request = new SignUp(ephemeral.PublicKeyBase64, box.SealForm(form));
        using var socket = await UdpLogOn.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        SignUpOutcome? outcome = null;
        await UdpLogOn.ExchangeAsync(socket, options, request, reply => reply is SignUpResult r && (outcome = box.OpenOutcome(r.Sealed)) is not null,
            cancellationToken).ConfigureAwait(false);
        return outcome!;
    }
}

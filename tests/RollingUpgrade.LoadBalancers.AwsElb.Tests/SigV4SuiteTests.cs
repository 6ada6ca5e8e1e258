using RollingUpgrade.LoadBalancers.AwsElb;

namespace RollingUpgrade.Tests;

/// <summary>
/// AWS's Signature Version 4 test suite (aws-sig-v4-test-suite, Apache-2.0, as shipped in
/// botocore tests/unit/auth/aws4_testsuite): fixed credentials AKIDEXAMPLE /
/// wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, region us-east-1, service "service", time
/// 20150830T123600Z. Each case gives the request and the suite's expected signature.
/// </summary>
public sealed class SigV4SuiteTests
{
    private static readonly AwsCredentials Suite = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null);
    private static readonly DateTimeOffset At = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);
    private const string StsToken =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    public static TheoryData<string, string, string, string, string, string> Cases() =>
        new()
        {
            // name, method, query (a=b&c=d), extra headers (Name:value|...), body, expected Authorization
            {
                "get-vanilla",
                "GET",
                "",
                "",
                "",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    + "SignedHeaders=host;x-amz-date, "
                    + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            },
            {
                "get-vanilla-query-order-key-case",
                "GET",
                "Param2=value2&Param1=value1",
                "",
                "",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    + "SignedHeaders=host;x-amz-date, "
                    + "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
            },
            {
                "get-header-value-trim",
                "GET",
                "",
                "My-Header1: value1|My-Header2: \"a   b   c\"",
                "",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    + "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
                    + "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
            },
            {
                "post-vanilla",
                "POST",
                "",
                "",
                "",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    + "SignedHeaders=host;x-amz-date, "
                    + "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
            },
            {
                "post-x-www-form-urlencoded",
                "POST",
                "",
                "Content-Type:application/x-www-form-urlencoded",
                "Param1=value1",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-date, "
                    + "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
            },
            {
                "post-x-www-form-urlencoded-parameters",
                "POST",
                "",
                "Content-Type:application/x-www-form-urlencoded; charset=utf8",
                "Param1=value1",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-date, "
                    + "Signature=1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"
            },
        };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Signs_like_the_suite(
        string name,
        string method,
        string query,
        string headers,
        string body,
        string expected
    )
    {
        var all = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Host"] = "example.amazonaws.com",
        };
        foreach (var header in headers.Split('|', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            all[header[..colon]] = header[(colon + 1)..];
        }

        var pairs = query
            .Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('='))
            .Select(p => KeyValuePair.Create(p[0], p[1]));

        var authorization = SigV4.Sign(
            Suite,
            At,
            "us-east-1",
            "service",
            method,
            "/",
            pairs,
            all,
            System.Text.Encoding.UTF8.GetBytes(body)
        );

        authorization.ShouldBe(expected, name);
    }

    [Fact]
    public void Repeated_header_names_are_joined_in_order()
    {
        var (canonical, signed) = SigV4.CanonicalHeaders([
            KeyValuePair.Create("Host", "example.amazonaws.com"),
            KeyValuePair.Create("My-Header1", "value2"),
            KeyValuePair.Create("My-Header1", "value2"),
            KeyValuePair.Create("My-Header1", "value1"),
            KeyValuePair.Create("X-Amz-Date", "20150830T123600Z"),
        ]);
        var request = SigV4.CanonicalRequest(
            "GET",
            "/",
            string.Empty,
            canonical,
            signed,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );

        signed.ShouldBe("host;my-header1;x-amz-date");
        SigV4
            .Signature(
                Suite.SecretKey,
                At,
                "us-east-1",
                "service",
                SigV4.StringToSign(At, "us-east-1", "service", request)
            )
            .ShouldBe("c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"); // get-header-key-duplicate
    }

    [Fact]
    public void A_session_token_is_sent_and_signed()
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Host"] = "example.amazonaws.com",
        };

        var authorization = SigV4.Sign(
            Suite with
            {
                SessionToken = StsToken,
            },
            At,
            "us-east-1",
            "service",
            "POST",
            "/",
            [],
            headers,
            []
        );

        headers["X-Amz-Security-Token"].ShouldBe(StsToken);
        authorization.ShouldBe(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                + "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        ); // post-sts-header-before
    }

    [Fact]
    public void Credentials_never_print_their_secrets() =>
        (Suite with { SessionToken = StsToken }).ToString().ShouldNotContain("EXAMPLEKEY");
}

<?php
/**
 * The peer to beat: SimpleSAMLphp 1.19 (Debian package `simplesamlphp`) validating the bench's Responses as
 * its SAML 2.0 SP does on its ACS (saml:Message::processResponse: status, Destination, signatures with the
 * IdP's certificate, Conditions, audience, SubjectConfirmation), in a loop, on one thread.
 *
 * php bench/simplesamlphp.php <responses file: one base64 Response per line> <IdP certificate PEM>
 *     <SP entity id> <ACS URL> <IdP entity id> <seconds>
 * SIMPLESAMLPHP_CONFIG_DIR must point at a config.php (bench/login.ts writes a minimal one).
 * Prints one JSON line: {"validated": n, "seconds": s, "rate": n/s}.
 */
[$script, $file, $certFile, $spEntityId, $acsUrl, $idpEntityId, $seconds] = $argv;
require '/usr/share/simplesamlphp/lib/_autoload.php';

// getSelfURLNoQuery() (Destination and Recipient checks) from the ACS URL, as a web request to it would.
$acs = parse_url($acsUrl);
$_SERVER['HTTP_HOST'] = $acs['host'] . (isset($acs['port']) ? ':' . $acs['port'] : '');
$_SERVER['SERVER_PORT'] = $acs['port'] ?? 80;
$_SERVER['REQUEST_URI'] = $acs['path'];
$_SERVER['SCRIPT_FILENAME'] = '/nonexistent/acs.php';

$cert = file_get_contents($certFile);
$certData = preg_replace('/-----[^-]+-----|\s+/', '', $cert);
$sp = \SimpleSAML\Configuration::loadFromArray(['entityid' => $spEntityId], 'sp');
$idp = \SimpleSAML\Configuration::loadFromArray(['entityid' => $idpEntityId, 'certData' => $certData], 'idp');

$bodies = array_values(array_filter(array_map('trim', file($file))));
$validate = function (string $b64) use ($sp, $idp): void {
    $doc = \SAML2\DOMDocumentFactory::fromString(base64_decode($b64, true));
    $response = new \SAML2\Response($doc->documentElement);
    $assertions = \SimpleSAML\Module\saml\Message::processResponse($sp, $idp, $response);
    if (count($assertions) !== 1) {
        throw new Exception('expected one assertion');
    }
};
// Warm-up (opcache off in the CLI: this is the autoloader and class loading).
foreach (array_slice($bodies, 0, 5) as $b) {
    $validate($b);
}
$n = 0;
$start = microtime(true);
$deadline = $start + (float) $seconds;
while (microtime(true) < $deadline) {
    $validate($bodies[$n % count($bodies)]);
    $n++;
}
$elapsed = microtime(true) - $start;
echo json_encode(['validated' => $n, 'seconds' => $elapsed, 'rate' => $n / $elapsed]), "\n";

/// ISO 3166-1 country codes, for `regions: countries:` (issue 10: `UK` for `GB` must not load
/// silently as a region nobody is in). The table is iso-codes' iso_3166-1.json (249 entries), each
/// alpha-2 code followed by its alpha-3 code, so a three-letter code gets its two-letter hint.
enum ISO3166 {
    /// Every entry as "GBGBR": alpha-2 then alpha-3.
    private static let table = """
        ADAND AEARE AFAFG AGATG AIAIA ALALB AMARM AOAGO AQATA ARARG ASASM ATAUT AUAUS AWABW AXALA AZAZE
        BABIH BBBRB BDBGD BEBEL BFBFA BGBGR BHBHR BIBDI BJBEN BLBLM BMBMU BNBRN BOBOL BQBES BRBRA BSBHS
        BTBTN BVBVT BWBWA BYBLR BZBLZ CACAN CCCCK CDCOD CFCAF CGCOG CHCHE CICIV CKCOK CLCHL CMCMR CNCHN
        COCOL CRCRI CUCUB CVCPV CWCUW CXCXR CYCYP CZCZE DEDEU DJDJI DKDNK DMDMA DODOM DZDZA ECECU EEEST
        EGEGY EHESH ERERI ESESP ETETH FIFIN FJFJI FKFLK FMFSM FOFRO FRFRA GAGAB GBGBR GDGRD GEGEO GFGUF
        GGGGY GHGHA GIGIB GLGRL GMGMB GNGIN GPGLP GQGNQ GRGRC GSSGS GTGTM GUGUM GWGNB GYGUY HKHKG HMHMD
        HNHND HRHRV HTHTI HUHUN IDIDN IEIRL ILISR IMIMN ININD IOIOT IQIRQ IRIRN ISISL ITITA JEJEY JMJAM
        JOJOR JPJPN KEKEN KGKGZ KHKHM KIKIR KMCOM KNKNA KPPRK KRKOR KWKWT KYCYM KZKAZ LALAO LBLBN LCLCA
        LILIE LKLKA LRLBR LSLSO LTLTU LULUX LVLVA LYLBY MAMAR MCMCO MDMDA MEMNE MFMAF MGMDG MHMHL MKMKD
        MLMLI MMMMR MNMNG MOMAC MPMNP MQMTQ MRMRT MSMSR MTMLT MUMUS MVMDV MWMWI MXMEX MYMYS MZMOZ NANAM
        NCNCL NENER NFNFK NGNGA NINIC NLNLD NONOR NPNPL NRNRU NUNIU NZNZL OMOMN PAPAN PEPER PFPYF PGPNG
        PHPHL PKPAK PLPOL PMSPM PNPCN PRPRI PSPSE PTPRT PWPLW PYPRY QAQAT REREU ROROU RSSRB RURUS RWRWA
        SASAU SBSLB SCSYC SDSDN SESWE SGSGP SHSHN SISVN SJSJM SKSVK SLSLE SMSMR SNSEN SOSOM SRSUR SSSSD
        STSTP SVSLV SXSXM SYSYR SZSWZ TCTCA TDTCD TFATF TGTGO THTHA TJTJK TKTKL TLTLS TMTKM TNTUN TOTON
        TRTUR TTTTO TVTUV TWTWN TZTZA UAUKR UGUGA UMUMI USUSA UYURY UZUZB VAVAT VCVCT VEVEN VGVGB VIVIR
        VNVNM VUVUT WFWLF WSWSM YEYEM YTMYT ZAZAF ZMZMB ZWZWE
        """

    /// Alpha-3 -> alpha-2 ("GBR" -> "GB").
    static let alpha3To2: [String: String] = {
        var out: [String: String] = [:]
        for entry in table.split(whereSeparator: { $0 == " " || $0 == "\n" }) where entry.count == 5 {
            out[String(entry.suffix(3))] = String(entry.prefix(2))
        }
        return out
    }()

    /// The alpha-2 codes, plus XK (Kosovo): user-assigned in ISO 3166 but what MaxMind's
    /// GeoLite2/GeoIP2 databases carry for Kosovo, so a policy must be able to name it.
    static let alpha2: Set<String> = Set(alpha3To2.values).union(["XK"])

    /// Codes people write for a country that ISO spells otherwise, with what to write.
    static let confusions: [String: String] = [
        "UK": "the United Kingdom is GB",
        "EL": "Greece is GR (EL is the EU's own code)",
        "EN": "England has no country code: write GB, or subdivisions: [GB-ENG]",
        "KO": "Kosovo is XK, South Korea KR",
        "EU": "EU is a continent: write continents: [EU]",
        "AP": "AP (Asia/Pacific) is not a country: write continents: [AS, OC]",
    ]

    /// What to write instead of `code` (upper-cased), or nil when it is a valid code.
    static func hint(for code: String) -> String? {
        if alpha2.contains(code) { return nil }
        if let c = confusions[code] { return c }
        if let two = alpha3To2[code] { return "write the two-letter code \(two), not the three-letter \(code)" }
        return "write a two-letter code like GB, US or JP"
    }
}

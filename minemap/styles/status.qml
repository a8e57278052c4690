<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- minemap: recorded minefields coloured by hazard status (DESIGN §1).
     The empty-valued category is QGIS's "all other values": a field with an
     unexpected or missing status is drawn in purple, never hidden. -->
<qgis version="3.22.0" styleCategories="Symbology">
  <renderer-v2 type="categorizedSymbol" attr="status" symbollevels="0" forceraster="0" enableorderby="0">
    <categories>
      <category value="not_started" symbol="0" label="Not started" render="true"/>
      <category value="in_progress" symbol="1" label="In progress" render="true"/>
      <category value="released" symbol="2" label="Released" render="true"/>
      <category value="" symbol="3" label="Other or missing status" render="true"/>
    </categories>
    <symbols>
      <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" pass="0" locked="0" enabled="1">
          <prop k="color" v="227,26,28,128"/>
          <prop k="style" v="solid"/>
          <prop k="outline_color" v="227,26,28,255"/>
          <prop k="outline_style" v="solid"/>
          <prop k="outline_width" v="0.6"/>
          <prop k="outline_width_unit" v="MM"/>
          <prop k="joinstyle" v="miter"/>
        </layer>
      </symbol>
      <symbol type="fill" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" pass="0" locked="0" enabled="1">
          <prop k="color" v="255,127,0,128"/>
          <prop k="style" v="solid"/>
          <prop k="outline_color" v="255,127,0,255"/>
          <prop k="outline_style" v="solid"/>
          <prop k="outline_width" v="0.6"/>
          <prop k="outline_width_unit" v="MM"/>
          <prop k="joinstyle" v="miter"/>
        </layer>
      </symbol>
      <symbol type="fill" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" pass="0" locked="0" enabled="1">
          <prop k="color" v="51,160,44,128"/>
          <prop k="style" v="solid"/>
          <prop k="outline_color" v="51,160,44,255"/>
          <prop k="outline_style" v="solid"/>
          <prop k="outline_width" v="0.6"/>
          <prop k="outline_width_unit" v="MM"/>
          <prop k="joinstyle" v="miter"/>
        </layer>
      </symbol>
      <symbol type="fill" name="3" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" pass="0" locked="0" enabled="1">
          <prop k="color" v="106,61,154,128"/>
          <prop k="style" v="solid"/>
          <prop k="outline_color" v="106,61,154,255"/>
          <prop k="outline_style" v="solid"/>
          <prop k="outline_width" v="0.6"/>
          <prop k="outline_width_unit" v="MM"/>
          <prop k="joinstyle" v="miter"/>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
</qgis>
